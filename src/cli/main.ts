/**
 * The `careamics` command: config, train, predict, export, info and noise-model over the Node API.
 *
 * @example
 * import { run } from './main.js';
 * process.exitCode = await run(process.argv.slice(2)); // what bin/careamics.js does
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { configCommand } from './config.js';
import { EXIT, exitCodeOf, formatError } from './errors.js';
import { exportCommand } from './export.js';
import { infoCommand } from './info.js';
import { noiseModelCommand } from './noiseModel.js';
import { predictCommand } from './predict.js';
import { type CliContext, type CliIo, createContext } from './shared.js';
import { trainCommand } from './train.js';

function packageVersion(): string {
  const url = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}

/** The program with every subcommand; output and errors go to `io`, nothing calls `process.exit`. */
export function createProgram(ctx: CliContext): Command {
  const program = new Command('careamics')
    .description('Noise2Void, N2V2, structN2V, CARE and Noise2Noise for microscopy images (careamics-js)')
    .version(packageVersion(), '-V, --version')
    .option('--verbose', 'on errors, print the stack and causes')
    .addHelpText(
      'after',
      '\nExit codes: 0 success, 1 failure, 2 usage error, 130 interrupted (Ctrl-C).\n' +
        'Example:\n  careamics config n2v --axes YX -o config.yaml\n' +
        '  careamics train config.yaml --train-source data/ --work-dir run\n' +
        '  careamics predict run data/ -o denoised/',
    );
  for (const command of [
    configCommand,
    trainCommand,
    predictCommand,
    exportCommand,
    infoCommand,
    noiseModelCommand,
  ]) {
    program.addCommand(command(ctx));
  }
  const configure = (command: Command) => {
    command
      .exitOverride()
      .configureOutput({
        writeOut: (s) => ctx.io.stdout.write(s),
        writeErr: (s) => ctx.io.stderr.write(s),
        outputError: (s, write) => write(`careamics: ${s.trim().replace(/\s*\n\s*/g, ' ')}\n`),
      })
      .showSuggestionAfterError(true);
    for (const sub of command.commands) configure(sub);
  };
  configure(program);
  return program;
}

/** Runs the command line `argv` (without node and script) and resolves to the exit code. */
export async function run(argv: readonly string[], io: CliIo = process): Promise<number> {
  const ctx = createContext(io);
  const program = createProgram(ctx);
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return EXIT.usage;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    // Commander has already printed its own errors (and help) through configureOutput.
    if (!(err instanceof CommanderError)) io.stderr.write(formatError(err, argv.includes('--verbose')));
    return exitCodeOf(err);
  }
}
