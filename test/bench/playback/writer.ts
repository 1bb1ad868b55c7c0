// A segment writer process of the playback benchmark's generator (see generate.ts): one JSON job
// as argv[2]; progress and then the report as JSON lines on stdout.
import { writeSegments, type WriterJob } from './generate.ts';

const job = JSON.parse(process.argv[2] ?? '{}') as WriterJob;
const report = await writeSegments(job, (segments) => process.stdout.write(`${JSON.stringify({ progress: segments, s: Math.round(performance.now() / 100) / 10 })}\n`));
process.stdout.write(`${JSON.stringify({ report })}\n`);
