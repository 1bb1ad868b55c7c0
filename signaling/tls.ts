// HTTPS material: given files, or a self-signed certificate generated once into the data dir
// (phones refuse getUserMedia on plain HTTP except on localhost).
import fs from 'node:fs/promises';
import path from 'node:path';
import { generate } from 'selfsigned';
import type { Config } from '../config/index.ts';

export interface TlsMaterial {
  cert: string;
  key: string;
  /** Where it came from, for the start-up message. */
  source: string;
}

export async function loadTls(config: Config): Promise<TlsMaterial | undefined> {
  const { tls } = config;
  if (tls.mode === 'off') return undefined;
  if (tls.mode === 'files') {
    return { cert: await fs.readFile(tls.certFile, 'utf8'), key: await fs.readFile(tls.keyFile, 'utf8'), source: tls.certFile };
  }
  const dir = path.join(config.dataDir, 'tls');
  const certFile = path.join(dir, 'self-signed-cert.pem');
  const keyFile = path.join(dir, 'self-signed-key.pem');
  try {
    return { cert: await fs.readFile(certFile, 'utf8'), key: await fs.readFile(keyFile, 'utf8'), source: certFile };
  } catch {
    // first start: generate below
  }
  const altNames: { type: 2 | 7; value?: string; ip?: string }[] = [
    { type: 2, value: 'localhost' },
    { type: 7, ip: '127.0.0.1' },
  ];
  if (config.rtc.announcedAddress !== '127.0.0.1') altNames.push({ type: 7, ip: config.rtc.announcedAddress });
  const pems = await generate([{ name: 'commonName', value: 'mimamori.local' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 825 * 86400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.writeFile(keyFile, pems.private, { mode: 0o600 });
  await fs.writeFile(certFile, pems.cert, { mode: 0o644 });
  return { cert: pems.cert, key: pems.private, source: `${certFile} (self-signed, generated)` };
}
