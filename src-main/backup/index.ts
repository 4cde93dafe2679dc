/**
 * Backup and restore: encrypted archives (scrypt + AES-256-GCM in the STREAM construction) of everything a server needs
 * to stand up on a new machine, with a manifest of SHA-256 hashes; restores that verify everything in a folder of their
 * own before one rename puts it in place.
 */
export {
  BACKUP_MAGIC, DEFAULT_SCRYPT, deriveKey, type BackupHeader, type DerivedKey, type ScryptParams,
} from './backup-crypto'
export {
  MANIFEST_ENTRY, backupManifestSchema, extractBackup, safeRelativePath, unlockBackup, writeBackup,
  type BackupManifest, type BackupManifestFile, type ExtractOptions, type WriteBackupOptions,
} from './backup-archive'
export {
  PENDING_DIR, applyPendingRestore, hasPendingRestore, restoreIntoNewDirectory, stageRestore, type AppliedRestore, type RestoreOptions,
} from './backup-restore'
export { BACKUP_EXTENSION, BackupStore, MAX_UPLOAD_BYTES, type BackupFile } from './backup-store'
