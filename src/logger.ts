import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.ts';

/**
 * The process logger. Nothing logs request objects, headers or URLs (see http/request-audit.ts);
 * the redact list is a second line of defence should someone add such a field later.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'sei-auth' },
    redact: {
      paths: [
        'req.url',
        'req.headers.authorization',
        'req.headers.cookie',
        'password',
        'client_secret',
        'access_token',
        'refresh_token',
        'code',
        'SAMLResponse',
        'SAMLAssertion',
        'assertion',
        '*.password',
        '*.client_secret',
        '*.access_token',
        '*.refresh_token',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
