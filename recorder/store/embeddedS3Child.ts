// The entry of the embedded S3 server's own process (EmbeddedS3Process forks it): one start
// message over IPC, one answer, then it serves until its parent goes away.
import { EmbeddedS3 } from './EmbeddedS3.ts';
import type { ChildAnswer, ChildStart } from './EmbeddedS3Process.ts';

let server: EmbeddedS3 | undefined;

const answer = (a: ChildAnswer) => process.send?.(a);

process.once('message', (start: ChildStart) => {
  EmbeddedS3.start(start).then(
    (s3) => {
      server = s3;
      answer({ ok: true, port: s3.port });
    },
    (error: unknown) => {
      process.send?.({ ok: false, code: (error as { code?: string }).code ?? 'failed', message: (error as Error).message } satisfies ChildAnswer, () => process.exit(1));
    },
  );
});

// The parent closed the channel (it stops, or it died): finish open requests, then exit.
process.once('disconnect', () => {
  void (server?.close() ?? Promise.resolve()).finally(() => process.exit(0));
});
