import type { Command } from 'commander'
import { readFileSync, writeFileSync } from 'node:fs'
import { parseTranscript, renderTranscriptReport, verifyTranscript } from '../../ceremony'
import { CliExit, EXIT_FAILED, printResult } from '../cli-support'

export function registerCeremonyCommand(program: Command): void {
  const ceremony = program.command('ceremony').description('offline key and CA ceremonies: dual control and a signed transcript')

  ceremony
    .command('verify <transcript>')
    .description('check a ceremony transcript: the hash chain, the seal signature, and list its artifacts')
    .option('--seal-fingerprint <hex>', 'the seal key fingerprint from the signed paper report (spaces allowed)')
    .option('--json', 'print {"valid":…} as JSON')
    .action((file: string, opts: { json?: boolean; sealFingerprint?: string }) => {
      const transcript = parseTranscript(readFileSync(file, 'utf8'))
      const result = verifyTranscript(transcript, { expectedSealFingerprint: opts.sealFingerprint })
      printResult(opts, { ...result, ceremony: transcript.ceremony }, () =>
        [
          `${transcript.ceremony.title} (${transcript.ceremony.id})`,
          result.valid ? `VALID: ${result.entries} steps, sealed with key ${result.sealFingerprint}` : 'NOT VALID:',
          ...result.problems.map((p) => `  - ${p}`),
          'Artifacts:',
          ...result.artifacts.map((a) => `  ${a.seq}. ${a.step}: ${a.name} sha256=${a.sha256}`),
        ].join('\n'),
      )
      if (!result.valid) throw new CliExit(EXIT_FAILED)
    })

  ceremony
    .command('report <transcript>')
    .description('write the printable HTML report with signature lines for the participants')
    .requiredOption('--out <file>', 'where to write the HTML report')
    .action((file: string, opts: { out: string }) => {
      const transcript = parseTranscript(readFileSync(file, 'utf8'))
      writeFileSync(opts.out, renderTranscriptReport(transcript, verifyTranscript(transcript)))
      process.stdout.write(`${opts.out}\n`)
    })
}
