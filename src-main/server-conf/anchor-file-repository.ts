import type { SqlReader, SqlWriter } from '../platform'

/** The anchor file stored at `gatehouse init`, pending import by global configuration. */
export interface AnchorFileRow {
  source_path: string
  content: Buffer
  sha256: string
  stored_at: string
}

export function saveAnchorFile(db: SqlWriter, sourcePath: string, content: Uint8Array, sha256: string, at: string): void {
  db.prepare(
    `INSERT INTO configuration_anchor_file (id, source_path, content, sha256, stored_at) VALUES (1, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET source_path = excluded.source_path, content = excluded.content,
       sha256 = excluded.sha256, stored_at = excluded.stored_at`,
  ).run(sourcePath, Buffer.from(content), sha256, at)
}

export function findAnchorFile(db: SqlReader): AnchorFileRow | undefined {
  return db.prepare('SELECT source_path, content, sha256, stored_at FROM configuration_anchor_file WHERE id = 1').get() as
    | AnchorFileRow
    | undefined
}
