import type { Migration } from '../../platform'

/** The outcome of a logged exchange is looked up by its message id (the query id) for the message-log screen. */
export const migration0002: Migration = {
  version: 2,
  name: 'message-id-index',
  up(db) {
    db.exec('CREATE INDEX operational_data_message_id ON operational_data (message_id)')
  },
}
