import GRDB

/// The database schema, as GRDB migrations. Append new migrations; never edit a shipped one.
///
/// ```
/// store_meta     one row: the compaction horizon and the secrets-key check
/// objects        current state, one row per (kind, namespace, name)
/// object_log     append-only: one row per revision (ADDED / MODIFIED / DELETED + full snapshot)
/// events         Kubernetes-style Events, de-duplicated on (object, type, reason, message)
/// secrets        AES-GCM sealed values (nonce ‖ ciphertext ‖ tag), the name as associated data
/// api_tokens     SHA-256 of each token, its role and subject; never the token
/// ```
///
/// The current revision is not stored on its own (that would rewrite one more page per commit):
/// it is the newest `object_log` row's, or `compacted_before - 1` when compaction emptied the
/// log (``currentRevisionSQL``). Revisions are never reused: compaction keeps the horizon.
///
/// Timestamps are INTEGER milliseconds since 1970 (UTC). JSON columns hold canonical text
/// (``CanonicalJSON``), so `json_extract` works on them from the `sqlite3` shell.
enum Schema {
  /// The last revision handed out, in one read (0 for a new store).
  static let currentRevisionSQL =
    "SELECT max(coalesce((SELECT max(revision) FROM object_log), 0), compacted_before - 1) FROM store_meta WHERE id = 1"

  static var migrator: DatabaseMigrator {
    var migrator = DatabaseMigrator()
    migrator.registerMigration("v1") { db in
      try db.execute(sql: """
        CREATE TABLE store_meta (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          compacted_before INTEGER NOT NULL,    -- object_log rows below this revision were deleted
          secrets_key_check BLOB                -- HMAC-SHA256(key, "hiclaw.secrets.key-check/v1")
        );
        INSERT INTO store_meta (id, compacted_before) VALUES (1, 1);

        CREATE TABLE objects (
          id INTEGER PRIMARY KEY,
          kind TEXT NOT NULL,
          namespace TEXT NOT NULL,
          name TEXT NOT NULL,
          uid TEXT NOT NULL,                    -- random UUID; not indexed (nothing looks objects up by uid)
          resource_version INTEGER NOT NULL,
          generation INTEGER NOT NULL,
          creation_timestamp INTEGER NOT NULL,
          deletion_timestamp INTEGER,
          labels TEXT NOT NULL,                 -- JSON object of strings
          annotations TEXT NOT NULL,            -- JSON object of strings
          finalizers TEXT NOT NULL,             -- JSON array of strings
          spec TEXT NOT NULL,                   -- canonical JSON object
          status TEXT NOT NULL,                 -- canonical JSON object
          UNIQUE (kind, namespace, name)
        );

        CREATE TABLE object_labels (
          object_id INTEGER NOT NULL REFERENCES objects(id) ON DELETE CASCADE,
          key TEXT NOT NULL,
          value TEXT NOT NULL,
          PRIMARY KEY (object_id, key)
        ) WITHOUT ROWID;
        CREATE INDEX object_labels_by_key_value ON object_labels(key, value);

        CREATE TABLE object_log (
          revision INTEGER PRIMARY KEY,
          type TEXT NOT NULL CHECK (type IN ('ADDED', 'MODIFIED', 'DELETED')),
          kind TEXT NOT NULL,
          namespace TEXT NOT NULL,
          name TEXT NOT NULL,
          uid TEXT NOT NULL,
          generation INTEGER NOT NULL,
          creation_timestamp INTEGER NOT NULL,
          deletion_timestamp INTEGER,
          labels TEXT NOT NULL,
          annotations TEXT NOT NULL,
          finalizers TEXT NOT NULL,
          spec TEXT NOT NULL,
          status TEXT NOT NULL
        );
        CREATE INDEX object_log_by_kind ON object_log(kind, revision);

        CREATE TABLE events (
          id INTEGER PRIMARY KEY,
          kind TEXT NOT NULL,
          namespace TEXT NOT NULL,
          name TEXT NOT NULL,
          type TEXT NOT NULL CHECK (type IN ('Normal', 'Warning')),
          reason TEXT NOT NULL,
          message TEXT NOT NULL,
          count INTEGER NOT NULL,
          first_timestamp INTEGER NOT NULL,
          last_timestamp INTEGER NOT NULL,
          UNIQUE (kind, namespace, name, type, reason, message)
        );
        CREATE INDEX events_by_last_timestamp ON events(last_timestamp);

        CREATE TABLE secrets (
          name TEXT PRIMARY KEY,
          sealed BLOB NOT NULL,
          updated_at INTEGER NOT NULL
        );

        CREATE TABLE api_tokens (
          id TEXT PRIMARY KEY,
          hash BLOB NOT NULL UNIQUE,
          role TEXT NOT NULL,
          subject TEXT NOT NULL,
          created_at INTEGER NOT NULL
        );
        """)
    }
    // Label selectors run on the in-memory object cache (ObjectCache) since 2026-12; the label
    // index v1 kept in step on every write was no longer read.
    migrator.registerMigration("v2-drop-object-labels") { db in
      try db.execute(sql: "DROP TABLE object_labels")
    }
    return migrator
  }
}
