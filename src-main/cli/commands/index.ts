import type { Command } from 'commander'
import { registerServeCommand } from './serve-command'
import { registerUserCommand } from './user-command'
import { registerCeremonyCommand } from './ceremony-command'
import { registerLabCommand } from './lab-command'
import { registerSignerCommands } from './cert-command'
import { registerGlobalConfCommand } from './globalconf-command'
import { registerArchiveCommand } from './archive-command'
import { registerMessageLogCommand } from './messagelog-command'
import { registerServerConfCommands } from './init-command'
import { registerAsicCommand } from './asic-command'
import { registerTsaCommand } from './tsa-command'
import { registerAuditCommand } from './audit-command'
import { registerBackupCommand } from './backup-command'
import { registerImportCommand, registerRegisterCommand } from './register-command'

/** Every subcommand group, in the order `--help` lists them. */
export const COMMAND_GROUPS: Array<(program: Command) => void> = [
  registerServeCommand,
  registerUserCommand,
  registerCeremonyCommand,
  registerLabCommand,
  registerSignerCommands,
  registerGlobalConfCommand,
  registerArchiveCommand,
  registerMessageLogCommand,
  registerServerConfCommands,
  registerAsicCommand,
  registerTsaCommand,
  registerAuditCommand,
  registerBackupCommand,
  registerRegisterCommand,
  registerImportCommand,
]
