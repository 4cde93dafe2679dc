import { Command, CommanderError } from 'commander'
import { GATEHOUSE_VERSION } from '../server'
import { COMMAND_GROUPS } from './commands'
import { EXIT_OK, EXIT_USAGE, reportError } from './cli-support'

/**
 * The `gatehouse` command line. Each command group lives in `commands/`; this file only assembles them
 * and maps outcomes to exit codes.
 */
export function buildProgram(): Command {
  const program = new Command('gatehouse')
    .description('Gatehouse: an X-Road-style security server for one machine')
    .version(GATEHOUSE_VERSION, '-V, --version')
    .showHelpAfterError('(run gatehouse --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) })
  for (const register of COMMAND_GROUPS) register(program)
  program.commands.forEach(function exitOverrideEverywhere(command: Command): void {
    command.exitOverride()
    command.commands.forEach(exitOverrideEverywhere)
  })
  return program
}

export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram()
  if (argv.length <= 2) {
    program.outputHelp()
    return EXIT_USAGE
  }
  try {
    await program.parseAsync(argv)
    return EXIT_OK
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT_OK
      return EXIT_USAGE
    }
    return reportError(error, { json: argv.includes('--json') })
  }
}
