import { escapeJsonText } from '../domain/text.ts';
import type { LogFields, Logger } from '../ports/logger.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Keys whose values are never written, whatever the caller passes. */
const secretKey = /token|secret|password|authorization|signature|key$/i;

function redact(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    return { name: value.name, message: value.message, cause: redact(value.cause, depth + 1) };
  }
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = secretKey.test(key) ? '[redacted]' : redact(inner, depth + 1);
  }
  return out;
}

export interface JsonLoggerOptions {
  level?: LogLevel;
  /** Where lines go; defaults to stderr so stdout stays for command output. */
  write?: (line: string) => void;
  now?: () => number;
}

/** One JSON object per line: time, level, message, context keys, fields. Secret-looking keys are redacted. */
export class JsonLogger implements Logger {
  readonly #context: LogFields;
  readonly #options: Required<JsonLoggerOptions>;

  constructor(options: JsonLoggerOptions = {}, context: LogFields = {}) {
    this.#options = {
      level: options.level ?? 'info',
      write: options.write ?? ((line) => process.stderr.write(`${line}\n`)),
      now: options.now ?? Date.now,
    };
    this.#context = context;
  }

  debug(message: string, fields?: LogFields): void {
    this.#log('debug', message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.#log('info', message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.#log('warn', message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.#log('error', message, fields);
  }

  child(fields: LogFields): Logger {
    return new JsonLogger(this.#options, { ...this.#context, ...fields });
  }

  #log(level: LogLevel, message: string, fields?: LogFields): void {
    if (rank[level] < rank[this.#options.level]) return;
    const entry = redact({
      time: new Date(this.#options.now()).toISOString(),
      level,
      message,
      ...this.#context,
      ...fields,
    });
    this.#options.write(
      escapeJsonText(
        JSON.stringify(entry, (_key, value) => (typeof value === 'bigint' ? value.toString() : value)),
      ),
    );
  }
}

/** A logger that keeps lines in memory, for tests that read what was logged. */
export class MemoryLogger extends JsonLogger {
  readonly lines: string[];

  constructor(lines: string[] = [], level: LogLevel = 'debug') {
    super({ level, write: (line) => lines.push(line) });
    this.lines = lines;
  }
}

export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};
