/// Herald's schema, as forward-only migrations. Instants are epoch milliseconds (BIGINT), flags
/// are INTEGER 0/1, JSON is TEXT, and every row of tenant data carries `org_id`.
public enum Schema {
    public static let migrations: [Migration] = [
        Migration(version: 1, name: "organizations, keys, contacts, lists, segments, senders, imports", sql: """
        CREATE TABLE organizations (
            id {{pk}},
            uuid TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            timezone TEXT NOT NULL,
            default_country TEXT NOT NULL,
            default_sender_uuid TEXT,
            credit_balance BIGINT NOT NULL DEFAULT 0,
            billing_mode TEXT NOT NULL,
            quiet_start TEXT NOT NULL,
            quiet_end TEXT NOT NULL,
            opt_out_confirmation TEXT NOT NULL,
            help_response TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        );
        CREATE TABLE api_keys (
            id {{pk}},
            uuid TEXT NOT NULL UNIQUE,
            org_id BIGINT NOT NULL REFERENCES organizations(id),
            name TEXT NOT NULL,
            role TEXT NOT NULL,
            key_hash TEXT NOT NULL UNIQUE,
            key_prefix TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            revoked_at BIGINT
        );
        CREATE INDEX api_keys_org ON api_keys (org_id, created_at);
        CREATE TABLE credit_ledger (
            id {{pk}},
            uuid TEXT NOT NULL UNIQUE,
            org_id BIGINT NOT NULL REFERENCES organizations(id),
            amount BIGINT NOT NULL,
            balance_after BIGINT NOT NULL,
            reason TEXT NOT NULL,
            campaign_uuid TEXT,
            created_at BIGINT NOT NULL
        );
        CREATE INDEX credit_ledger_org ON credit_ledger (org_id, id);
        CREATE TABLE contacts (
            id {{pk}},
            uuid TEXT NOT NULL UNIQUE,
            org_id BIGINT NOT NULL REFERENCES organizations(id),
            phone TEXT NOT NULL,
            first_name TEXT,
            last_name TEXT,
            email TEXT,
            city TEXT,
            state TEXT,
            zip TEXT,
            timezone TEXT,
            custom_fields TEXT NOT NULL DEFAULT '{}',
            opted_out_at BIGINT,
            is_textable INTEGER NOT NULL DEFAULT 1,
            last_import_id BIGINT,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        );
        CREATE UNIQUE INDEX contacts_org_phone ON contacts (org_id, phone);
        CREATE INDEX contacts_org_updated ON contacts (org_id, updated_at, id);
        CREATE INDEX contacts_org_created ON contacts (org_id, created_at, id);
        CREATE INDEX contacts_org_state ON contacts (org_id, UPPER(state), updated_at);
        CREATE INDEX contacts_org_zip ON contacts (org_id, zip);
        CREATE TABLE contact_tags (
            org_id BIGINT NOT NULL,
            contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
            tag TEXT NOT NULL,
            PRIMARY KEY (contact_id, tag)
        );
        CREATE INDEX contact_tags_org_tag ON contact_tags (org_id, tag, contact_id);
        CREATE TABLE lists (
            id {{pk}},
            uuid TEXT NOT NULL UNIQUE,
            org_id BIGINT NOT NULL REFERENCES organizations(id),
            name TEXT NOT NULL,
            description TEXT,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        );
        CREATE INDEX lists_org ON lists (org_id, created_at);
        CREATE TABLE list_members (
            list_id BIGINT NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
            contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
            org_id BIGINT NOT NULL,
            added_at BIGINT NOT NULL,
            PRIMARY KEY (list_id, contact_id)
        );
        CREATE INDEX list_members_contact ON list_members (contact_id);
        CREATE TABLE segments (
            id {{pk}},
            uuid TEXT NOT NULL UNIQUE,
            org_id BIGINT NOT NULL REFERENCES organizations(id),
            name TEXT NOT NULL,
            filter TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        );
        CREATE INDEX segments_org ON segments (org_id, created_at);
        CREATE TABLE senders (
            id {{pk}},
            uuid TEXT NOT NULL UNIQUE,
            org_id BIGINT NOT NULL REFERENCES organizations(id),
            channel TEXT NOT NULL,
            address TEXT NOT NULL,
            type TEXT NOT NULL,
            label TEXT,
            provider TEXT NOT NULL,
            is_default INTEGER NOT NULL DEFAULT 0,
            max_per_second DOUBLE PRECISION NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        );
        CREATE UNIQUE INDEX senders_org_address ON senders (org_id, channel, address);
        CREATE TABLE imports (
            id {{pk}},
            uuid TEXT NOT NULL UNIQUE,
            org_id BIGINT NOT NULL REFERENCES organizations(id),
            status TEXT NOT NULL,
            total_rows BIGINT NOT NULL DEFAULT 0,
            created BIGINT NOT NULL DEFAULT 0,
            merged BIGINT NOT NULL DEFAULT 0,
            invalid BIGINT NOT NULL DEFAULT 0,
            duplicate_rows BIGINT NOT NULL DEFAULT 0,
            options TEXT NOT NULL,
            file_path TEXT,
            lease_owner TEXT,
            lease_until BIGINT NOT NULL DEFAULT 0,
            failure_reason TEXT,
            started_at BIGINT NOT NULL,
            completed_at BIGINT
        );
        CREATE TABLE import_errors (
            import_id BIGINT NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
            row_number BIGINT NOT NULL,
            field TEXT NOT NULL,
            message TEXT NOT NULL,
            PRIMARY KEY (import_id, row_number, field)
        );
        CREATE TABLE idempotency_keys (
            org_id BIGINT NOT NULL,
            api_key_id BIGINT NOT NULL,
            idem_key TEXT NOT NULL,
            request_hash TEXT NOT NULL,
            status_code INTEGER,
            content_type TEXT,
            response_body {{blob}},
            created_at BIGINT NOT NULL,
            PRIMARY KEY (api_key_id, idem_key)
        );
        CREATE INDEX idempotency_created ON idempotency_keys (created_at)
        """),
        Migration(version: 2, name: "campaigns, their audiences and messages", sql: """
        CREATE TABLE campaigns (
            id {{pk}},
            uuid TEXT NOT NULL UNIQUE,
            org_id BIGINT NOT NULL REFERENCES organizations(id),
            name TEXT,
            status TEXT NOT NULL,
            paused_from TEXT,
            definition TEXT NOT NULL,
            channel TEXT NOT NULL,
            sender_uuid TEXT,
            segment_uuid TEXT,
            scheduled_for BIGINT,
            total_count BIGINT NOT NULL DEFAULT 0,
            queued_count BIGINT NOT NULL DEFAULT 0,
            sent_count BIGINT NOT NULL DEFAULT 0,
            delivered_count BIGINT NOT NULL DEFAULT 0,
            undelivered_count BIGINT NOT NULL DEFAULT 0,
            failed_count BIGINT NOT NULL DEFAULT 0,
            skipped_count BIGINT NOT NULL DEFAULT 0,
            cancelled_count BIGINT NOT NULL DEFAULT 0,
            unknown_count BIGINT NOT NULL DEFAULT 0,
            reply_count BIGINT NOT NULL DEFAULT 0,
            opt_out_count BIGINT NOT NULL DEFAULT 0,
            click_count BIGINT NOT NULL DEFAULT 0,
            unique_click_count BIGINT NOT NULL DEFAULT 0,
            credits_used BIGINT NOT NULL DEFAULT 0,
            ab_test_winner TEXT,
            failure_reason TEXT,
            next_send_at BIGINT,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            started_at BIGINT,
            completed_at BIGINT
        );
        CREATE INDEX campaigns_org ON campaigns (org_id, id);
        CREATE INDEX campaigns_status ON campaigns (status, scheduled_for);
        CREATE INDEX campaigns_segment ON campaigns (org_id, segment_uuid);
        CREATE TABLE campaign_audience (
            campaign_id BIGINT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
            contact_id BIGINT NOT NULL,
            org_id BIGINT NOT NULL,
            PRIMARY KEY (campaign_id, contact_id)
        );
        CREATE TABLE campaign_messages (
            id {{pk}},
            org_id BIGINT NOT NULL,
            campaign_id BIGINT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
            contact_id BIGINT NOT NULL,
            phone TEXT NOT NULL,
            variant TEXT,
            status TEXT NOT NULL,
            body TEXT,
            encoding TEXT,
            segments INTEGER,
            credits INTEGER,
            error_code TEXT,
            error_message TEXT,
            provider_message_id TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at BIGINT NOT NULL DEFAULT 0,
            claimed_by TEXT,
            claimed_at BIGINT,
            sent_at BIGINT,
            delivered_at BIGINT,
            replied_at BIGINT,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            UNIQUE (campaign_id, contact_id)
        );
        CREATE INDEX campaign_messages_org_sent ON campaign_messages (org_id, sent_at);
        CREATE INDEX campaign_messages_contact ON campaign_messages (contact_id, sent_at);
        CREATE INDEX campaign_messages_work ON campaign_messages (campaign_id, status, next_attempt_at);
        CREATE INDEX campaign_messages_provider ON campaign_messages (provider_message_id);
        CREATE TABLE unmatched_receipts (
            provider_message_id TEXT NOT NULL PRIMARY KEY,
            outcome TEXT NOT NULL,
            error_code TEXT,
            received_at BIGINT NOT NULL
        );
        CREATE TABLE leases (
            name TEXT NOT NULL PRIMARY KEY,
            owner TEXT NOT NULL,
            until_at BIGINT NOT NULL
        );
        CREATE TABLE workers (
            id TEXT NOT NULL PRIMARY KEY,
            heartbeat_at BIGINT NOT NULL
        )
        """),
        Migration(version: 3, name: "contact search indexes, custom-field instants", sql: "", dialectStatements: [
            // SQLite: an FTS5 trigram index over the searched columns (external content).
            // `detail='none'` keeps it small: it answers "has every trigram of the term" and the
            // query re-checks the exact LIKE on the row. It is brought up to date in bulk
            // (`ContactStore.syncSearchIndex`), not per row: an FTS5 write from a row trigger
            // costs ~100 µs a row (each triggering statement flushes FTS5's pending terms). So
            // inserts carry no trigger at all — contacts with `id > last_id` are not indexed yet
            // and searches read them directly — and only updates of the searched columns and
            // deletes record the indexed values in `contacts_search_pending`. A delete that
            // lowers MAX(id) lowers `last_id` with it, so a reused rowid is never mistaken for
            // an indexed one.
            .sqlite: [
                """
                CREATE VIRTUAL TABLE contacts_search USING fts5(first_name, last_name, email, phone,
                    content='contacts', content_rowid='id', tokenize='trigram', detail='none', columnsize=0)
                """,
                "CREATE TABLE contacts_search_state (last_id INTEGER NOT NULL)",
                "INSERT INTO contacts_search_state (last_id) VALUES (0)",
                """
                CREATE TABLE contacts_search_pending (
                    contact_id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT, phone TEXT)
                """,
                """
                CREATE TRIGGER contacts_search_update AFTER UPDATE OF first_name, last_name, email, phone ON contacts
                WHEN old.id <= (SELECT last_id FROM contacts_search_state) BEGIN
                    INSERT OR IGNORE INTO contacts_search_pending (contact_id, first_name, last_name, email, phone)
                    VALUES (old.id, old.first_name, old.last_name, old.email, old.phone);
                END
                """,
                """
                CREATE TRIGGER contacts_search_delete AFTER DELETE ON contacts
                WHEN old.id <= (SELECT last_id FROM contacts_search_state) BEGIN
                    INSERT OR IGNORE INTO contacts_search_pending (contact_id, first_name, last_name, email, phone)
                    VALUES (old.id, old.first_name, old.last_name, old.email, old.phone);
                    UPDATE contacts_search_state SET last_id = (SELECT COALESCE(MAX(id), 0) FROM contacts)
                    WHERE last_id > (SELECT COALESCE(MAX(id), 0) FROM contacts);
                END
                """,
            ],
            // PostgreSQL: pg_trgm GIN indexes serve the search's ILIKE/LIKE directly; where the
            // extension cannot be installed the migration still succeeds and search scans.
            // `herald_instant_ms` reads a custom field as an instant (NULL when it is not one).
            .postgres: [
                """
                DO $$
                BEGIN
                    CREATE EXTENSION IF NOT EXISTS pg_trgm;
                    CREATE INDEX contacts_first_name_trgm ON contacts USING gin (first_name gin_trgm_ops);
                    CREATE INDEX contacts_last_name_trgm ON contacts USING gin (last_name gin_trgm_ops);
                    CREATE INDEX contacts_email_trgm ON contacts USING gin (email gin_trgm_ops);
                    CREATE INDEX contacts_phone_trgm ON contacts USING gin (phone gin_trgm_ops);
                EXCEPTION WHEN others THEN
                    RAISE NOTICE 'pg_trgm unavailable (%): contact search will scan', SQLERRM;
                END
                $$
                """,
                """
                CREATE FUNCTION herald_instant_ms(t text) RETURNS bigint LANGUAGE plpgsql STABLE AS $$
                BEGIN
                    IF t IS NULL OR t !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}' THEN
                        RETURN NULL;
                    END IF;
                    IF t ~ '([Zz]|[+-][0-9]{2}(:{0,1}[0-9]{2}){0,1})$' THEN
                        RETURN floor(extract(epoch FROM t::timestamptz) * 1000)::bigint;
                    END IF;
                    RETURN floor(extract(epoch FROM (t::timestamp AT TIME ZONE 'UTC')) * 1000)::bigint;
                EXCEPTION WHEN others THEN
                    RETURN NULL;
                END
                $$
                """,
            ],
        ]),
        // The delivery engine's indexes on campaign_messages, partial so that a fan-out writes
        // only the rows, their (campaign, contact) key and the claim index, and so that each
        // move of a message touches only the indexes it enters or leaves: claims read the
        // queued ones in claim order, completion and crash recovery the in-flight ones,
        // receipts the sent ones by provider id, history and the duplicate-send check
        // (`CampaignStore.recentOverlap`, `sent_at >= ?`) the sent ones by time.
        Migration(version: 4, name: "partial delivery indexes", sql: """
        DROP INDEX campaign_messages_work;
        DROP INDEX campaign_messages_provider;
        DROP INDEX campaign_messages_org_sent;
        DROP INDEX campaign_messages_contact;
        CREATE INDEX campaign_messages_queued ON campaign_messages (campaign_id, next_attempt_at, id) WHERE status = 'queued';
        CREATE INDEX campaign_messages_in_flight ON campaign_messages (campaign_id, claimed_by) WHERE status = 'sending';
        CREATE INDEX campaign_messages_provider ON campaign_messages (provider_message_id) WHERE provider_message_id IS NOT NULL;
        CREATE INDEX campaign_messages_org_sent ON campaign_messages (org_id, sent_at) WHERE sent_at IS NOT NULL;
        CREATE INDEX campaign_messages_contact ON campaign_messages (contact_id, sent_at) WHERE sent_at IS NOT NULL
        """),
        // Opt-outs outlive their contacts (TCPA, DOMAIN.md §3.2): deleting an opted-out contact
        // keeps its phone here, and a contact created again with that phone (by the API, an
        // import or a campaign's inline recipients) starts opted out. Only an opt-in of that
        // contact removes the phone.
        Migration(version: 5, name: "suppressed phones", sql: """
        CREATE TABLE suppressed_phones (
            org_id BIGINT NOT NULL REFERENCES organizations(id),
            phone TEXT NOT NULL,
            opted_out_at BIGINT NOT NULL,
            PRIMARY KEY (org_id, phone)
        )
        """),
        // Prepaid credits held by claimed batches until they are recorded: a batch may only
        // take what the balance minus every other batch's hold still covers, so batches claimed
        // side by side (two campaigns, the next round while one is submitted, several workers)
        // never spend the same credits twice. A hold goes with its batch's recording, or with
        // its worker's claims when that worker is recovered as dead.
        Migration(version: 6, name: "credit holds", sql: """
        CREATE TABLE credit_holds (
            id {{pk}},
            org_id BIGINT NOT NULL REFERENCES organizations(id),
            campaign_id BIGINT NOT NULL,
            owner TEXT NOT NULL,
            amount BIGINT NOT NULL,
            created_at BIGINT NOT NULL
        );
        CREATE INDEX credit_holds_org ON credit_holds (org_id);
        CREATE INDEX credit_holds_owner ON credit_holds (owner)
        """),
        // SQLite: the search index now holds folded text (`ContactSearchIndex.sync`). Entries
        // written before hold the raw text, so the index is emptied and marks every contact as
        // not indexed; the next search brings it up to date in bulk.
        Migration(version: 7, name: "search index of folded text", sql: "", dialectStatements: [
            .sqlite: [
                "INSERT INTO contacts_search (contacts_search) VALUES ('delete-all')",
                "DELETE FROM contacts_search_pending",
                "UPDATE contacts_search_state SET last_id = 0",
            ],
        ]),
    ]
}
