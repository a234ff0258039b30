// `electra <command> [flags]`: dispatch to one module per command.
import { commands } from './commands.js';
import { kernels } from '../kernels/index.js';
import { closestName } from '../util/suggest.js';
import { EXIT_FAILURE, exitStatusFor } from './exit-status.js';

function usage(): string {
  const lines = ['Usage: electra <command> [options]', '', 'Commands:'];
  const width = Math.max(...commands.map((c) => c.name.length));
  for (const c of commands) lines.push(`  ${c.name.padEnd(width)}  ${c.summary}`);
  lines.push('  ' + 'info'.padEnd(width) + '  Show the compute backend, instruction set and threads');
  lines.push('', 'Run `electra <command> --help` for a command\'s options.');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(usage() + '\n');
    return 0;
  }
  if (name === 'info') {
    const k = kernels();
    process.stdout.write(JSON.stringify({ backend: k.name, isa: k.isa, threads: k.threads }) + '\n');
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    const hint = closestName(name, [...commands.map((c) => c.name), 'info', 'help']);
    process.stderr.write(`electra: unknown command '${name}'${hint ? ` (did you mean '${hint}'?)` : ''}\n\n${usage()}\n`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    // Bad input (flags, files) from any command: named, exit 2; other errors go to bin/electra.js (exit 1).
    const status = exitStatusFor(err);
    if (status === EXIT_FAILURE) throw err;
    process.stderr.write(`electra ${name}: ${(err as Error).message}\n`);
    return status;
  }
}
