// One subcommand of `reclab`: its own flag table (each flag one line: type, value name, help),
// parsed strictly with node:util parseArgs, so a flag of another command is a usage error; and
// its `--help`, generated from the same table. trainer/cli.ts lists the commands.
import { parseArgs } from 'node:util';
import { InputError } from './inputError';

/** Bad usage: exit 2 with the command's usage. */
export class UsageError extends InputError {}

export interface FlagSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  /** The value's name in the help (`--steps N`). */
  value?: string;
  help: string;
}
export type FlagTable = Readonly<Record<string, FlagSpec>>;

/** What parsing gives a handler: each flag of its table, undefined when absent. */
export type FlagValues<T extends FlagTable> = {
  [K in keyof T]?: T[K] extends { type: 'boolean' } ? boolean : T[K] extends { multiple: true } ? string[] : string;
};

export interface CommandSpec<T extends FlagTable> {
  name: string;
  /** What follows the name in the usage line, e.g. "<run-dir>". */
  operands?: string;
  /** Positional arguments accepted: [min, max]. */
  positionals: [number, number];
  summary: string;
  flags: T;
  run(flags: FlagValues<T>, positionals: string[]): Promise<number>;
}

/** A command with its flag types erased, for the command list. */
export interface Command {
  name: string;
  summary: string;
  usageLine: string;
  help(): string;
  /** Parses argv (after the command name) and runs; a UsageError for bad flags or operands. */
  parseAndRun(argv: string[], onParsed?: (flags: Record<string, unknown>) => void): Promise<number>;
}

const helpFlag: FlagSpec = { type: 'boolean', short: 'h', help: 'this help' };

function flagLabel(name: string, f: FlagSpec): string {
  return `${f.short ? `-${f.short}, ` : ''}--${name}${f.type === 'string' ? ` ${f.value ?? 'VALUE'}` : ''}`;
}

export function defineCommand<T extends FlagTable>(spec: CommandSpec<T>): Command {
  const table: Record<string, FlagSpec> = { ...spec.flags, help: helpFlag };
  const usageLine = `reclab ${spec.name}${spec.operands ? ` ${spec.operands}` : ''}${Object.keys(spec.flags).length ? ' [options]' : ''}`;
  const help = () => {
    const rows = Object.entries(table).map(([n, f]) => [flagLabel(n, f) + (f.multiple ? ' (repeatable)' : ''), f.help] as const);
    const width = Math.max(...rows.map(([l]) => l.length));
    return `usage: ${usageLine}\n\n${spec.summary}\n\noptions:\n${rows.map(([l, h]) => `  ${l.padEnd(width)}  ${h}`).join('\n')}`;
  };
  return {
    name: spec.name, summary: spec.summary, usageLine, help,
    async parseAndRun(argv, onParsed) {
      let parsed;
      try {
        parsed = parseArgs({
          args: argv, allowPositionals: true, strict: true,
          options: Object.fromEntries(Object.entries(table).map(([n, f]) => [n, { type: f.type, ...(f.multiple ? { multiple: true } : {}), ...(f.short ? { short: f.short } : {}) }])),
        });
      } catch (e) {
        const unknown = (e as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && /'([^']+)'/.exec((e as Error).message);
        throw new UsageError(unknown ? `unknown option ${unknown[1]} for reclab ${spec.name}` : (e as Error).message);
      }
      const values = parsed.values as Record<string, unknown>;
      if (values['help']) {
        process.stdout.write(help() + '\n');
        return 0;
      }
      const [min, max] = spec.positionals;
      const n = parsed.positionals.length;
      if (n < min || n > max) {
        throw new UsageError(max === 0 ? `unexpected argument "${parsed.positionals[0]}"`
          : n < min ? `give ${spec.operands ?? `${min} argument(s)`}` : `unexpected argument "${parsed.positionals[max]}"`);
      }
      onParsed?.(values);
      return spec.run(values as FlagValues<T>, parsed.positionals);
    },
  };
}
