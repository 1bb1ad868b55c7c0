import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs. Secrets never reach them: tokens, passwords and camera secrets are redacted. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'mimamori' },
    redact: {
      paths: [
        ...['password', 'secret', 'token', 'authorization', 'refreshToken', 'accessToken', 'credential', 'totp', 'cookie'].flatMap((k) => [k, `*.${k}`]),
        'headers.authorization',
        'headers.cookie',
      ],
      censor: '[redacted]',
    },
  });
}
