// mediasoup reads MEDIASOUP_WORKER_BIN once, when its module loads, so this must be imported
// before 'mediasoup'. setup/worker/build.sh links the worker built on this machine here.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const link = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '.mimamori', 'mediasoup-worker');
if (!process.env.MEDIASOUP_WORKER_BIN) {
  if (!fs.existsSync(link)) {
    throw new Error(
      `mediasoup worker not found at ${link}. Run "bash setup/setup.sh" (it builds the worker once per machine) ` +
        'or set MEDIASOUP_WORKER_BIN to a built mediasoup-worker binary.',
    );
  }
  process.env.MEDIASOUP_WORKER_BIN = link;
}
