import GRDB

/// The database schema, as GRDB migrations. Append new migrations; never edit a shipped one.
///
/// ```
/// store_meta     one row: the compaction horizon and the secrets-key check
/// objects        current state, one row per (kind, namespace, name)
/// object_log     append-only: one row per revision (ADDED / MODIFIED / DELETED + full snapshot)
/// events         Kubernetes-style Events, de-duplicated on (object, type, reason, message)
/// secrets        AES-GCM sealed values (nonce ‖ ciphertext ‖ tag), the name as associated data
/// api_tokens     SHA-256 of each token (unique index), its id, role and subject; never the token
/// ```
///
/// Since v3 `secrets` is a WITHOUT ROWID table keyed by name (a row is one B-tree entry; the
/// rowid table kept a second index for its text key), and `api_tokens` keeps only the index it
/// is looked up by on every request (the hash; rows stay in creation order, the listing's order)
/// — the unique index on the random id went. Minting an agent's token (a token row and its
/// sealed copy) wrote 5.6 WAL pages; it writes 4.0. Revoking by id scans the tokens (~0.05 ms
/// per thousand): revocations are rare.
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
    migrator.registerMigration("v3-tokens-and-secrets-by-key") { db in
      try db.execute(sql: """
        CREATE TABLE api_tokens_v3 (
          id TEXT NOT NULL,                     -- tok_ + 16 random hex digits, for listing and revoking
          hash BLOB NOT NULL,                   -- SHA-256 of the token
          role TEXT NOT NULL,
          subject TEXT NOT NULL,
          created_at INTEGER NOT NULL
        );
        INSERT INTO api_tokens_v3 (id, hash, role, subject, created_at)
          SELECT id, hash, role, subject, created_at FROM api_tokens ORDER BY rowid;
        DROP TABLE api_tokens;
        ALTER TABLE api_tokens_v3 RENAME TO api_tokens;
        CREATE UNIQUE INDEX api_tokens_by_hash ON api_tokens(hash);

        CREATE TABLE secrets_v3 (
          name TEXT PRIMARY KEY,
          sealed BLOB NOT NULL,
          updated_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        INSERT INTO secrets_v3 (name, sealed, updated_at) SELECT name, sealed, updated_at FROM secrets;
        DROP TABLE secrets;
        ALTER TABLE secrets_v3 RENAME TO secrets;
        """)
    }
    return migrator
  }
}
