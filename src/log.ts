import pino, { type Logger } from 'pino';

export type { Logger };

/** Keys redacted wherever they appear: at the top level of a logged object and one level down. */
const SECRET_KEYS = [
  'authentication',
  'encryptKeys',
  'secret',
  'secrets',
  'privateKey',
  'password',
  'pass',
  'token',
  'url',
  'transport',
];

/**
 * JSON logs. Redaction is a second fence: no code path logs a secret on
 * purpose, and these paths catch one that slips into a logged object.
 */
export function createLogger(options: { level: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      base: { pid: process.pid, name: 'skyrelay' },
      redact: {
        paths: [
          ...SECRET_KEYS.flatMap((key) => [key, `*.${key}`]),
          'headers.authorization',
          'req.headers.authorization',
        ],
        censor: '***',
      },
    },
    options.destination,
  );
}

/**
 * For hot log lines built only from flat, typed fields (an accepted
 * callback's facts: ids, partner, outcome, ms): the same fence for
 * top-level keys, without the wildcard paths, which cost more than half of
 * such a line's serialisation (50 us against 21 us here). Nothing
 * nested is ever logged through it.
 */
export function createFlatLogger(logger: Logger): Logger {
  return logger.child({}, { redact: { paths: SECRET_KEYS, censor: '***' } });
}
