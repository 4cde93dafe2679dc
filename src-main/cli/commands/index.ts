import type { Command } from 'commander'
import { registerServeCommand } from './serve-command'

/** Every subcommand group, in the order `--help` lists them. */
export const COMMAND_GROUPS: Array<(program: Command) => void> = [registerServeCommand]
