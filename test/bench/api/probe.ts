// Preloaded into the service process (NODE_OPTIONS=--import) by `npm run bench -- api`, so the
// bench can read the service's own memory after a full GC, which /metrics cannot give.
// MIMAMORI_BENCH_PROBE_DIR: writes `pid` there at start; on SIGUSR2 runs a full GC and writes
// `memory.json` (process.memoryUsage()). MIMAMORI_BENCH_CPU_PROF_DIR: records a V8 CPU profile
// through the inspector (node refuses --cpu-prof in NODE_OPTIONS) and writes
// service-<pid>.cpuprofile on exit.
import fs from 'node:fs';
import inspector from 'node:inspector';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';

const probeDir = process.env.MIMAMORI_BENCH_PROBE_DIR;
if (probeDir) {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  fs.writeFileSync(path.join(probeDir, 'pid'), String(process.pid));
  process.on('SIGUSR2', () => {
    gc();
    const file = path.join(probeDir, 'memory.json');
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(process.memoryUsage()));
    fs.renameSync(`${file}.tmp`, file);
  });
}

const profDir = process.env.MIMAMORI_BENCH_CPU_PROF_DIR;
if (profDir) {
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  // An in-process session answers synchronously, so this works inside 'exit'.
  process.on('exit', () => {
    session.post('Profiler.stop', (err, res) => {
      if (!err) fs.writeFileSync(path.join(profDir, `service-${process.pid}.cpuprofile`), JSON.stringify(res.profile));
    });
  });
}
