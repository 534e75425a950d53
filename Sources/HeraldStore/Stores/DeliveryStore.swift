import Foundation
import HeraldCore

/// The SQL of the delivery engine (ARCHITECTURE.md "Durability"): admission, fan-out, claiming,
/// outcomes, receipts, completion and crash recovery. Every recipient is a row written before
/// anything is sent; every move of a message is one guarded UPDATE, and the campaign counters
/// change in the same transaction as the rows they count.
public struct DeliveryStore: Sendable {
    let db: any SQLDatabase

    public init(db: any SQLDatabase) { self.db = db }

    // MARK: scheduling and admission

    /// Scheduled campaigns whose time has come become `pending`.
    @discardableResult
    public func releaseDueScheduled(now: Int64) async throws -> Int {
        try await db.transaction { c in
            try await c.execute("UPDATE campaigns SET status = 'pending', updated_at = ? WHERE status = 'scheduled' AND scheduled_for <= ?", [.int(now), .int(now)])
        }
    }

    /// A campaign the engine works on.
    public struct Work: Sendable, Hashable {
        public var key: Int64
        public var id: String
        public var scope: OrganizationScope
        public var status: CampaignStatus
        public var fields: CampaignFields
        public var abTestWinner: String?
        public var startedAt: Int64?
    }

    static let workColumns = "k.id, k.uuid, k.org_id, o.uuid, k.status, k.definition, k.ab_test_winner, k.started_at"

    static func work(_ r: SQLRow) -> Work {
        Work(key: r.int(0), id: r.text(1), scope: OrganizationScope(key: r.int(2), id: r.text(3)),
             status: CampaignStatus(rawValue: r.text(4)) ?? .failed,
             fields: (try? CampaignStore.decoder.decode(CampaignFields.self, from: Data(r.text(5).utf8))) ?? CampaignFields(),
             abTestWinner: r.optionalText(6), startedAt: r.optionalInt(7))
    }

    /// Moves pending campaigns to `queued` while their organization runs fewer than
    /// `maxRunning` campaigns (queued or sending), oldest first. Returns the admitted ones.
    public func admit(maxRunning: Int, now: Int64) async throws -> [Work] {
        try await db.transaction { c in
            let pending = try await c.query("""
                SELECT \(Self.workColumns) FROM campaigns k JOIN organizations o ON o.id = k.org_id
                WHERE k.status = 'pending' ORDER BY k.id LIMIT 100
                """, [])
            var admitted: [Work] = []
            var running: [Int64: Int64] = [:]
            for row in pending {
                let w = Self.work(row)
                if running[w.scope.key] == nil {
                    running[w.scope.key] = try await c.queryOne("SELECT COUNT(*) FROM campaigns WHERE org_id = ? AND status IN ('queued', 'sending')", [.int(w.scope.key)])?.int(0) ?? 0
                }
                guard running[w.scope.key]! < Int64(maxRunning) else { continue }
                let n = try await c.execute("UPDATE campaigns SET status = 'queued', updated_at = ? WHERE id = ? AND status = 'pending'", [.int(now), .int(w.key)])
                if n == 1 {
                    running[w.scope.key]! += 1
                    var q = w
                    q.status = .queued
                    admitted.append(q)
                }
            }
            return admitted
        }
    }

    /// Campaigns in `queued` (admitted, recipients not yet written; also after a crash mid fan-out).
    public func queuedCampaigns() async throws -> [Work] {
        try await db.read { c in
            try await c.query("SELECT \(Self.workColumns) FROM campaigns k JOIN organizations o ON o.id = k.org_id WHERE k.status = 'queued' ORDER BY k.id", []).map(Self.work)
        }
    }

    /// Campaigns in `sending`, oldest first.
    public func sendingCampaigns() async throws -> [Work] {
        try await db.read { c in
            try await c.query("SELECT \(Self.workColumns) FROM campaigns k JOIN organizations o ON o.id = k.org_id WHERE k.status = 'sending' ORDER BY k.org_id, k.id", []).map(Self.work)
        }
    }

    /// The campaign's current status, nil when it is gone.
    public func status(_ work: Work) async throws -> CampaignStatus? {
        try await db.read { c in
            try await c.queryOne("SELECT status FROM campaigns WHERE org_id = ? AND id = ?", [.int(work.scope.key), .int(work.key)])
                .flatMap { CampaignStatus(rawValue: $0.text(0)) }
        }
    }

    // MARK: fan-out

    /// Writes one `queued` recipient row per eligible audience member with one `INSERT …
    /// SELECT`, sets the counters from the rows and moves the campaign to `sending`. Contacts
    /// opted out or not textable at fan-out are not recipients at all (API.md §3: never in a
    /// campaign's audience), so `totalCount` equals the estimate's `recipients`; a recipient
    /// who opts out later is skipped at dispatch (`checkRecipients`). Idempotent: a fan-out
    /// cut short by a crash is rolled back whole, and re-running it inserts nothing twice.
    @discardableResult
    public func fanOut(_ work: Work, audience: ResolvedAudience, now: Int64) async throws -> (queued: Int64, skipped: Int64) {
        try await db.transaction { c in
            let f = CampaignStore.audienceFilter(audience, dialect: c.dialect)
            let variant: String
            if work.fields.isABTest {
                let bucket = ABTestAssignment.sqlBucketExpression(campaignKey: String(work.key), contactKey: "c.id")
                let share = work.fields.resolvedSamplePercent * 100
                variant = "CASE WHEN \(bucket) < \(share) THEN 'A' WHEN \(bucket) < \(2 * share) THEN 'B' ELSE 'W' END"
            } else {
                variant = "NULL"
            }
            // Rows left by an earlier fan-out of this campaign (none, unless it was re-queued
            // after rows were written): the counters then come from a count over its rows.
            let hadRows = try await c.queryOne("SELECT 1 FROM campaign_messages WHERE campaign_id = ? LIMIT 1", [.int(work.key)]) != nil
            let inserted = try await c.execute("""
                INSERT INTO campaign_messages (org_id, campaign_id, contact_id, phone, variant, status, error_code, created_at, updated_at)
                SELECT c.org_id, ?, c.id, c.phone, \(variant), 'queued', NULL, ?, ?
                FROM contacts c WHERE c.org_id = ? AND c.opted_out_at IS NULL AND c.is_textable = 1 AND (\(f.sql))
                ON CONFLICT (campaign_id, contact_id) DO NOTHING
                """, [.int(work.key), .int(now), .int(now), .int(work.scope.key)] + f.binds)
            let total: Int64, queued: Int64, skipped: Int64
            if hadRows {
                let counts = try await c.queryOne("""
                    SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = 'queued' THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN status = 'skipped' THEN 1 ELSE 0 END), 0)
                    FROM campaign_messages WHERE campaign_id = ?
                    """, [.int(work.key)])
                total = counts?.int(0) ?? 0
                queued = counts?.int(1) ?? 0
                skipped = counts?.int(2) ?? 0
            } else {
                // Every row is the statement's, and each was written `queued`.
                total = Int64(inserted)
                queued = total
                skipped = 0
            }
            try await c.execute("""
                UPDATE campaigns SET status = 'sending', total_count = ?, queued_count = ?, skipped_count = ?, started_at = COALESCE(started_at, ?), updated_at = ?
                WHERE id = ? AND status = 'queued'
                """, [.int(total), .int(queued), .int(skipped), .int(now), .int(now), .int(work.key)])
            return (queued, skipped)
        }
    }

    // MARK: claiming

    /// A message claimed for sending.
    public struct Claimed: Sendable, Hashable {
        public var key: Int64
        public var contactKey: Int64
        public var phone: String
        public var variant: String?
        public var attempts: Int

        /// Herald's message id, stable across retries and restarts.
        public var messageId: String { "hm-\(key)" }
    }

    /// Claims up to `limit` due messages of a campaign for `owner` (`queued → sending`). On
    /// PostgreSQL concurrent workers skip each other's rows (`FOR UPDATE SKIP LOCKED`).
    /// `includeAwaitingWinner` allows the A/B remainder once a winner is chosen. Earliest due
    /// first, then by key: the order of the partial `campaign_messages_queued` index, so SQLite stops after
    /// `limit` rows instead of sorting every queued message of the campaign for each batch.
    public func claim(campaignKey: Int64, owner: String, now: Int64, limit: Int, includeAwaitingWinner: Bool) async throws -> [Claimed] {
        try await db.transaction { c in
            let variantGuard = includeAwaitingWinner ? "" : " AND (variant IS NULL OR variant <> 'W')"
            let due = "SELECT id FROM campaign_messages WHERE campaign_id = ? AND status = 'queued' AND next_attempt_at <= ?\(variantGuard) ORDER BY next_attempt_at, id LIMIT ?"
            let rows: [SQLRow]
            if c.dialect == .postgres {
                // The due rows are picked once, in a materialized CTE: as `IN (subquery)` the
                // planner may rescan the subquery, and each rescan under SKIP LOCKED locks
                // further rows, claiming more than `limit`.
                rows = try await c.query("""
                    WITH picked AS MATERIALIZED (\(due) FOR UPDATE SKIP LOCKED)
                    UPDATE campaign_messages SET status = 'sending', claimed_by = ?, claimed_at = ?, attempts = attempts + 1, updated_at = ?
                    FROM picked WHERE campaign_messages.id = picked.id AND campaign_messages.status = 'queued'
                    RETURNING campaign_messages.id, contact_id, phone, variant, attempts
                    """, [.int(campaignKey), .int(now), .int(Int64(limit)), .text(owner), .int(now), .int(now)])
            } else {
                rows = try await c.query("""
                    UPDATE campaign_messages SET status = 'sending', claimed_by = ?, claimed_at = ?, attempts = attempts + 1, updated_at = ?
                    WHERE id IN (\(due)) AND status = 'queued'
                    RETURNING id, contact_id, phone, variant, attempts
                    """, [.text(owner), .int(now), .int(now), .int(campaignKey), .int(now), .int(Int64(limit))])
            }
            return rows.map { Claimed(key: $0.int(0), contactKey: $0.int(1), phone: $0.text(2), variant: $0.optionalText(3), attempts: Int($0.int(4))) }
        }
    }

    /// A batch's hold on its organization's prepaid credits (`holdCredits`).
    public struct CreditHold: Sendable, Hashable {
        /// The hold's key, released by `record`; nil when nothing was held.
        public var key: Int64?
        /// How many of the costs, from the first, the hold covers.
        public var covered: Int
        /// The balance not held by other batches when this one was taken.
        public var available: Int64
    }

    /// Holds the organization's prepaid credits for the longest prefix of `costs` that the
    /// balance, minus what other claimed batches hold, still covers. The organization's row is
    /// locked first (PostgreSQL; SQLite has one writer), so concurrent batches of any campaign
    /// or worker see each other's holds. `record` releases the hold in the transaction that
    /// charges what was actually sent; `recoverInFlight` releases the holds of dead workers.
    public func holdCredits(_ work: Work, owner: String, costs: [Int], now: Int64) async throws -> CreditHold {
        try await db.transaction { c in
            let balance = try await c.queryOne("SELECT credit_balance FROM organizations WHERE id = ?" + (c.dialect == .postgres ? " FOR UPDATE" : ""),
                                               [.int(work.scope.key)])?.int(0) ?? 0
            let held = try await c.queryOne("SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM credit_holds WHERE org_id = ?", [.int(work.scope.key)])?.int(0) ?? 0
            let available = balance - held
            var left = available, covered = 0
            for cost in costs {
                guard Int64(cost) <= left else { break }
                left -= Int64(cost)
                covered += 1
            }
            let amount = available - left
            guard amount > 0 else { return CreditHold(key: nil, covered: covered, available: available) }
            let key = try await c.queryOne("""
                INSERT INTO credit_holds (org_id, campaign_id, owner, amount, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id
                """, [.int(work.scope.key), .int(work.key), .text(owner), .int(amount), .int(now)])?.int(0)
            return CreditHold(key: key, covered: covered, available: available)
        }
    }

    /// Whether a claimed message may go out, and with what merge values.
    public enum RecipientCheck: Sendable, Hashable {
        /// Send it, rendered with these values.
        case send(RecipientValues)
        /// Drop it before sending (`skipped` with this reason).
        case skip(reason: String)
    }

    /// Checks claimed messages right before they are sent (API.md §6: "Opt-out takes effect
    /// before the next message is dispatched"), in one query for the whole batch. A message
    /// goes out only to its contact's current phone: it is skipped when the contact is gone
    /// (`contact_deleted`), opted out (`opted_out`), or no longer has the phone the message is
    /// addressed to (`phone_changed`: the number may belong to someone else now, even to an
    /// opted-out contact), or when that phone is suppressed (`opted_out`: an opt-out kept after
    /// its contact was deleted). `(org_id, phone)` is unique, so when the contact still has the
    /// phone it is the only contact of the organization holding it, and its own opt-out is the
    /// opt-out of whoever holds the number. Returns the check of each message, by message key.
    public func checkRecipients(_ scope: OrganizationScope, claimed: [Claimed], customFields: [String]) async throws -> [Int64: RecipientCheck] {
        guard !claimed.isEmpty else { return [:] }
        let keys = Array(Set(claimed.map(\.contactKey)))
        let contacts: [Int64: (values: RecipientValues, optedOut: Bool, suppressed: Bool)] = try await db.read { c in
            var select = """
                c.id, c.phone, c.first_name, c.last_name, c.email, c.city, c.state, c.zip, c.timezone, c.opted_out_at,
                CASE WHEN EXISTS (SELECT 1 FROM suppressed_phones s WHERE s.org_id = c.org_id AND s.phone = c.phone) THEN 1 ELSE 0 END
                """
            var binds: [SQLValue] = []
            for name in customFields {
                select += ", \(c.dialect.jsonText(column: "c.custom_fields"))"
                binds.append(c.dialect.jsonKeyBind(name))
            }
            // `+c.org_id`: look the keys up by primary key and only check the organization;
            // otherwise SQLite picks an (org_id, …) index and scans every contact of the
            // organization for each batch (dispatch fell to ~10k messages/s at 200k recipients).
            let rows = try await c.query("SELECT \(select) FROM contacts c WHERE +c.org_id = ? AND c.id IN (\(SQLFragment.placeholders(keys.count)))",
                                         binds + [.int(scope.key)] + keys.map { .int($0) })
            var out: [Int64: (RecipientValues, Bool, Bool)] = [:]
            for r in rows {
                var custom: [String: String] = [:]
                for (i, name) in customFields.enumerated() { if let v = r.optionalText(11 + i) { custom[name] = v } }
                out[r.int(0)] = (RecipientValues(key: r.int(0), phone: r.text(1), firstName: r.optionalText(2), lastName: r.optionalText(3), email: r.optionalText(4),
                                                 city: r.optionalText(5), state: r.optionalText(6), zip: r.optionalText(7), timezone: r.optionalText(8), custom: custom),
                                 r.optionalInt(9) != nil, r.int(10) != 0)
            }
            return out
        }
        var checks: [Int64: RecipientCheck] = [:]
        checks.reserveCapacity(claimed.count)
        for m in claimed {
            guard let contact = contacts[m.contactKey] else {
                checks[m.key] = .skip(reason: "contact_deleted")
                continue
            }
            if contact.optedOut || contact.suppressed {
                checks[m.key] = .skip(reason: "opted_out")
            } else if contact.values.phone != m.phone {
                checks[m.key] = .skip(reason: "phone_changed")
            } else {
                checks[m.key] = .send(contact.values)
            }
        }
        return checks
    }

    // MARK: outcomes

    /// What happened to one claimed message.
    public enum Outcome: Sendable, Hashable {
        case sent(providerMessageId: String, body: String, encoding: String, segments: Int, credits: Int)
        case failed(code: String, message: String, body: String?, encoding: String?, segments: Int?)
        /// Back to `queued` until `at` (retry with backoff, or a closed send window).
        case deferred(until: Int64, code: String?, message: String?, countsAsAttempt: Bool)
        /// Dropped before sending (opted out since launch, contact deleted, phone changed).
        case skipped(reason: String)
    }

    /// What a recording does to the campaign's `nextSendAt`.
    public enum NextSendAt: Sendable, Hashable {
        case unchanged
        /// Messages went out: the send window is open.
        case clear
        /// A closed send window deferred recipients until then (epoch ms).
        case at(Int64)
    }

    /// Records outcomes of messages claimed by `owner` in one transaction, with the campaign's
    /// counters, its `nextSendAt` and (in credits mode) the credit charge, releasing the batch's
    /// `creditHold` in the same transaction. Rows no longer
    /// claimed by `owner` (a recovery took them over) are left alone. Sent messages, the bulk of
    /// every batch, are written by one guarded `UPDATE … FROM (VALUES …)` per chunk whose
    /// `RETURNING` rows are exactly the rows it changed, so the counters count only those.
    /// Returns how many outcomes were left alone because `owner` no longer held the row.
    @discardableResult
    public func record(_ work: Work, owner: String, outcomes: [(Claimed, Outcome)], chargeCredits: Bool, creditHold: Int64? = nil, now: Int64,
                       nextSendAt: NextSendAt = .unchanged) async throws -> Int {
        guard !outcomes.isEmpty || creditHold != nil else { return 0 }
        return try await db.transaction { c in
            if let creditHold {
                try await c.execute("DELETE FROM credit_holds WHERE id = ? AND org_id = ?", [.int(creditHold), .int(work.scope.key)])
            }
            guard !outcomes.isEmpty else { return 0 }
            // When messages go back to `queued`: the campaign row first, locked (PostgreSQL;
            // SQLite has one writer). A cancel locks it first too, so either the cancel sees the
            // messages this recording puts back, or this recording sees the campaign ended and
            // cancels them itself. Recordings that only settle sent, failed or skipped messages
            // take no early lock, so several workers still record one campaign side by side.
            let putsBack = outcomes.contains { if case .deferred = $0.1 { true } else { false } }
            let status = putsBack ? try await c.queryOne("SELECT status FROM campaigns WHERE id = ?" + (c.dialect == .postgres ? " FOR UPDATE" : ""),
                                                         [.int(work.key)]).flatMap { CampaignStatus(rawValue: $0.text(0)) } : nil
            var sent: Int64 = 0, failed: Int64 = 0, skipped: Int64 = 0, credits: Int64 = 0, deferred = 0
            var sentRows: [[SQLValue]] = []
            sentRows.reserveCapacity(outcomes.count)
            // Provider ids of the rows this recording set to `sent`: a row whose claim was taken
            // over (a recovery) is not ours to settle, nor are its early receipts.
            var recordedIds: [SQLValue] = []
            let guardSQL = " WHERE id = ? AND status = 'sending' AND claimed_by = ?"
            for (m, outcome) in outcomes {
                let guardBinds: [SQLValue] = [.int(m.key), .text(owner)]
                switch outcome {
                case .sent(let pid, let body, let encoding, let segments, let cost):
                    sentRows.append([.int(m.key), .text(pid), .text(body), .text(encoding), .int(Int64(segments)), .int(Int64(cost))])
                case .failed(let code, let message, let body, let encoding, let segments):
                    let n = try await c.execute("UPDATE campaign_messages SET status = 'failed', error_code = ?, error_message = ?, body = ?, encoding = ?, segments = ?, updated_at = ?" + guardSQL,
                                                [.text(code), .text(message), .optional(body), .optional(encoding), .optional(segments.map { Int64($0) }), .int(now)] + guardBinds)
                    if n == 1 { failed += 1 }
                case .deferred(let until, let code, let message, let countsAsAttempt):
                    deferred += try await c.execute("UPDATE campaign_messages SET status = 'queued', next_attempt_at = ?, error_code = ?, error_message = ?, attempts = attempts - ?, claimed_by = NULL, updated_at = ?" + guardSQL,
                                                    [.int(until), .optional(code), .optional(message), .int(countsAsAttempt ? 0 : 1), .int(now)] + guardBinds)
                case .skipped(let reason):
                    let n = try await c.execute("UPDATE campaign_messages SET status = 'skipped', error_code = ?, updated_at = ?" + guardSQL,
                                                [.text(reason), .int(now)] + guardBinds)
                    if n == 1 { skipped += 1 }
                }
            }
            for chunk in Self.chunks(sentRows.count) {
                let rows = try await c.query("""
                    UPDATE campaign_messages SET status = 'sent', provider_message_id = v.column2, body = v.column3, encoding = v.column4,
                        segments = v.column5, credits = v.column6, sent_at = ?, updated_at = ?, error_code = NULL, error_message = NULL
                    FROM (VALUES \(Self.valuesRows(chunk.count, "(?, ?, ?, ?, ?, ?)"))) AS v
                    WHERE campaign_messages.id = v.column1 AND campaign_messages.status = 'sending' AND campaign_messages.claimed_by = ?
                    RETURNING credits, provider_message_id
                    """, [.int(now), .int(now)] + sentRows[chunk].flatMap { $0 } + [.text(owner)])
                sent += Int64(rows.count)
                for r in rows {
                    credits += r.int(0)
                    recordedIds.append(.text(r.text(1)))
                }
            }
            // Put back in `queued` after the campaign ended (cancelled while they were claimed):
            // they are not sent, so they are cancelled like every other unsent recipient.
            var cancelled: Int64 = 0
            if deferred > 0, status?.isFinal == true {
                cancelled = try await CampaignStore.cancelQueued(c, orgKey: work.scope.key, campaignKey: work.key, now: now)
            }
            let left = sent + failed + skipped + cancelled
            var campaignSets = "sent_count = sent_count + ?, failed_count = failed_count + ?, skipped_count = skipped_count + ?, queued_count = queued_count - ?, credits_used = credits_used + ?, cancelled_count = cancelled_count + ?, updated_at = ?"
            var campaignBinds: [SQLValue] = [.int(sent), .int(failed), .int(skipped + cancelled), .int(left), .int(credits), .int(cancelled), .int(now)]
            switch nextSendAt {
            case .unchanged: break
            case .clear: campaignSets += ", next_send_at = NULL"
            case .at(let at):
                campaignSets += ", next_send_at = ?"
                campaignBinds.append(.int(at))
            }
            try await c.execute("UPDATE campaigns SET \(campaignSets) WHERE id = ?", campaignBinds + [.int(work.key)])
            let lost = outcomes.count - Int(sent + failed + skipped) - deferred
            if chargeCredits && credits > 0 {
                guard let row = try await c.queryOne("UPDATE organizations SET credit_balance = credit_balance - ? WHERE id = ? RETURNING credit_balance",
                                                     [.int(credits), .int(work.scope.key)]) else { return lost }
                try await c.execute("INSERT INTO credit_ledger (uuid, org_id, amount, balance_after, reason, campaign_uuid, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                    [.text(IDs.make()), .int(work.scope.key), .int(-credits), .int(row.int(0)), .text("campaign messages accepted by the carrier"), .text(work.id), .int(now)])
            }
            // Receipts that arrived before their message was recorded (the table is almost
            // always empty: look it up by id only when it is not).
            if !recordedIds.isEmpty, try await c.queryOne("SELECT 1 FROM unmatched_receipts LIMIT 1", []) != nil {
                for chunk in Self.chunks(recordedIds.count) {
                    let early = try await c.query("SELECT provider_message_id, outcome, error_code, received_at FROM unmatched_receipts WHERE provider_message_id IN (\(SQLFragment.placeholders(chunk.count)))",
                                                  Array(recordedIds[chunk]))
                    for r in early {
                        // Set to `sent` just above, so it applies; the kept receipt goes only then.
                        if try await applyReceipt(c, providerMessageId: r.text(0), outcome: r.text(1), errorCode: r.optionalText(2), at: r.int(3)) {
                            try await c.execute("DELETE FROM unmatched_receipts WHERE provider_message_id = ?", [.text(r.text(0))])
                        }
                    }
                }
            }
            return lost
        }
    }

    /// Splits `count` rows into chunks of power-of-two sizes (at most 512), so that a batched
    /// statement is prepared in at most ten shapes and stays far below both engines' limits
    /// on bound parameters.
    static func chunks(_ count: Int) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start = 0
        var size = 512
        while start < count {
            while size > count - start { size /= 2 }
            ranges.append(start..<(start + size))
            start += size
        }
        return ranges
    }

    /// `rows` copies of a `VALUES` row such as `(?, ?)`, comma-separated.
    static func valuesRows(_ rows: Int, _ row: String) -> String {
        Array(repeating: row, count: rows).joined(separator: ", ")
    }

    /// Sets a campaign's `nextSendAt` (a closed send window) or clears it.
    public func setNextSendAt(_ campaignKey: Int64, _ at: Int64?) async throws {
        try await db.transaction { c in
            try await c.execute("UPDATE campaigns SET next_send_at = ? WHERE id = ?", [.optional(at), .int(campaignKey)])
        }
    }

    // MARK: receipts

    /// A receipt to apply.
    public struct Receipt: Sendable, Hashable {
        public var providerMessageId: String
        public var outcome: String
        public var errorCode: String?
        public var at: Int64

        public init(providerMessageId: String, outcome: String, errorCode: String?, at: Int64) {
            self.providerMessageId = providerMessageId
            self.outcome = outcome
            self.errorCode = errorCode
            self.at = at
        }
    }

    /// How long a receipt waits for its message: a message is recorded seconds after its
    /// submission, or after a crashed worker's recovery; two days covers a long outage.
    public static let unmatchedReceiptRetentionMillis: Int64 = 2 * 24 * 3600 * 1000

    /// Deletes kept receipts older than `unmatchedReceiptRetentionMillis` (receipts of test
    /// sends, which are not campaign messages, never match). Returns how many.
    public func deleteStaleUnmatchedReceipts(now: Int64 = Clock.nowMillis()) async throws -> Int {
        try await db.transaction { c in
            try await c.execute("DELETE FROM unmatched_receipts WHERE received_at < ?", [.int(now - Self.unmatchedReceiptRetentionMillis)])
        }
    }

    /// Applies kept receipts whose message has been recorded since (a receipt can overtake the
    /// recording of its message on PostgreSQL, where writers run concurrently).
    @discardableResult
    public func applyUnmatchedReceipts() async throws -> Int {
        try await db.transaction { c in
            let rows = try await c.query("""
                SELECT u.provider_message_id, u.outcome, u.error_code, u.received_at FROM unmatched_receipts u
                WHERE EXISTS (SELECT 1 FROM campaign_messages m WHERE m.provider_message_id = u.provider_message_id AND m.status <> 'sending')
                LIMIT 5000
                """, [])
            // Counters are added up per campaign and written once at the end, so the campaign
            // row is locked for as short a time as possible.
            var deltas: [Int64: (delivered: Int64, undelivered: Int64)] = [:]
            var applied = 0
            for r in rows {
                let id = r.text(0)
                if let (campaign, column) = try await applyReceiptRow(c, providerMessageId: id, outcome: r.text(1), errorCode: r.optionalText(2), at: r.int(3)) {
                    var d = deltas[campaign] ?? (0, 0)
                    if column == "delivered_count" { d.delivered += 1 } else { d.undelivered += 1 }
                    deltas[campaign] = d
                    applied += 1
                } else if try await c.queryOne("SELECT 1 FROM campaign_messages WHERE provider_message_id = ? AND status IN ('delivered', 'undelivered')", [.text(id)]) == nil {
                    // Not applied and its message has no receipt yet (a concurrent change this
                    // statement did not see): keep it for the next pass.
                    continue
                }
                // Applied, or a repeat of a receipt the message already has.
                try await c.execute("DELETE FROM unmatched_receipts WHERE provider_message_id = ?", [.text(id)])
            }
            for (campaign, d) in deltas.sorted(by: { $0.key < $1.key }) {
                try await c.execute("UPDATE campaigns SET delivered_count = delivered_count + ?, undelivered_count = undelivered_count + ? WHERE id = ?",
                                    [.int(d.delivered), .int(d.undelivered), .int(campaign)])
            }
            return applied
        }
    }

    /// Applies a batch of receipts in one transaction: one guarded `UPDATE … FROM (VALUES …)`
    /// per chunk for the first receipt of each message, then row by row for the few left over
    /// (repeats, messages recorded by a transaction that committed meanwhile, early receipts).
    public func receipts(_ batch: [Receipt]) async throws {
        try await db.transaction { c in
            // Counters are added up per campaign and written once at the end, so the campaign
            // row is locked for as short a time as possible.
            var deltas: [Int64: (delivered: Int64, undelivered: Int64)] = [:]
            func count(_ campaign: Int64, delivered: Bool) {
                var d = deltas[campaign] ?? (0, 0)
                if delivered { d.delivered += 1 } else { d.undelivered += 1 }
                deltas[campaign] = d
            }
            var seen = Set<String>()
            var firsts: [Receipt] = []
            var rest: [Receipt] = []
            for r in batch {
                if seen.insert(r.providerMessageId).inserted { firsts.append(r) } else { rest.append(r) }
            }
            var applied = Set<String>()
            for chunk in Self.chunks(firsts.count) {
                var binds: [SQLValue] = []
                binds.reserveCapacity(chunk.count * 4)
                for r in firsts[chunk] {
                    binds += [.text(r.providerMessageId), .text(r.outcome == "delivered" ? "delivered" : "undelivered"), .int(r.at), .optional(r.errorCode)]
                }
                let rows = try await c.query("""
                    UPDATE campaign_messages SET status = v.column2, delivered_at = v.column3, error_code = COALESCE(v.column4, error_code), updated_at = v.column3
                    FROM (VALUES \(Self.valuesRows(chunk.count, "(?, ?, ?, ?)"))) AS v
                    WHERE campaign_messages.provider_message_id = v.column1 AND campaign_messages.status = 'sent'
                    RETURNING campaign_id, status, provider_message_id
                    """, binds)
                for row in rows {
                    count(row.int(0), delivered: row.text(1) == "delivered")
                    applied.insert(row.text(2))
                }
            }
            for r in firsts where !applied.contains(r.providerMessageId) { rest.append(r) }
            for r in rest {
                if let (campaign, column) = try await applyReceiptRow(c, providerMessageId: r.providerMessageId, outcome: r.outcome, errorCode: r.errorCode, at: r.at) {
                    count(campaign, delivered: column == "delivered_count")
                    continue
                }
                switch try await c.queryOne("SELECT status FROM campaign_messages WHERE provider_message_id = ?", [.text(r.providerMessageId)])?.text(0) {
                case nil:
                    // No message has this id yet: keep the receipt until its message is
                    // recorded (`record` and `applyUnmatchedReceipts` pick it up).
                    try await c.execute("INSERT INTO unmatched_receipts (provider_message_id, outcome, error_code, received_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                                        [.text(r.providerMessageId), .text(r.outcome), .optional(r.errorCode), .int(r.at)])
                case "sent":
                    // Recorded by a transaction that committed after the UPDATE above took its
                    // snapshot (PostgreSQL, READ COMMITTED): this statement sees it, apply now.
                    if let (campaign, column) = try await applyReceiptRow(c, providerMessageId: r.providerMessageId, outcome: r.outcome, errorCode: r.errorCode, at: r.at) {
                        count(campaign, delivered: column == "delivered_count")
                    }
                default:
                    // A final status: this receipt is a repeat.
                    break
                }
            }
            for (campaign, d) in deltas.sorted(by: { $0.key < $1.key }) {
                try await c.execute("UPDATE campaigns SET delivered_count = delivered_count + ?, undelivered_count = undelivered_count + ? WHERE id = ?",
                                    [.int(d.delivered), .int(d.undelivered), .int(campaign)])
            }
        }
    }

    /// Applies one receipt to its message; returns the campaign and the counter column to
    /// increase, or nil when no `sent` message has that provider id.
    func applyReceiptRow(_ c: any SQLConnection, providerMessageId: String, outcome: String, errorCode: String?, at: Int64) async throws -> (campaign: Int64, column: String)? {
        let status = outcome == "delivered" ? "delivered" : "undelivered"
        let row = try await c.queryOne("""
            UPDATE campaign_messages SET status = ?, delivered_at = ?, error_code = COALESCE(?, error_code), updated_at = ?
            WHERE provider_message_id = ? AND status = 'sent' RETURNING campaign_id
            """, [.text(status), .int(at), .optional(errorCode), .int(at), .text(providerMessageId)])
        guard let campaign = row?.int(0) else { return nil }
        return (campaign, status == "delivered" ? "delivered_count" : "undelivered_count")
    }

    @discardableResult
    func applyReceipt(_ c: any SQLConnection, providerMessageId: String, outcome: String, errorCode: String?, at: Int64) async throws -> Bool {
        guard let (campaign, column) = try await applyReceiptRow(c, providerMessageId: providerMessageId, outcome: outcome, errorCode: errorCode, at: at) else { return false }
        try await c.execute("UPDATE campaigns SET \(column) = \(column) + 1 WHERE id = ?", [.int(campaign)])
        return true
    }

    // MARK: completion and recovery

    /// `sending` campaigns with no message left queued or in flight become `completed`.
    @discardableResult
    public func completeFinished(now: Int64) async throws -> Int {
        try await db.transaction { c in
            try await c.execute("""
                UPDATE campaigns SET status = 'completed', completed_at = ?, next_send_at = NULL, updated_at = ?
                WHERE status = 'sending'
                  AND NOT EXISTS (SELECT 1 FROM campaign_messages m WHERE m.campaign_id = campaigns.id AND m.status = 'queued')
                  AND NOT EXISTS (SELECT 1 FROM campaign_messages m WHERE m.campaign_id = campaigns.id AND m.status = 'sending')
                """, [.int(now), .int(now)])
        }
    }

    /// Messages left `sending` by a process that is gone: resubmitted under the same id where
    /// the provider deduplicates (back to `queued`), otherwise marked `unknown` and reported.
    /// `alive` lists the owners whose claims stand.
    @discardableResult
    public func recoverInFlight(alive: [String], providerDeduplicates: @Sendable (Int64) -> Bool, now: Int64) async throws -> (requeued: Int, unknown: Int) {
        try await db.transaction { c in
            let keep = alive.isEmpty ? "" : " AND (claimed_by IS NULL OR claimed_by NOT IN (\(SQLFragment.placeholders(alive.count))))"
            let rows = try await c.query("SELECT id, campaign_id FROM campaign_messages WHERE status = 'sending'" + keep, alive.map { .text($0) })
            // Their credit holds go with them: what they sent was never recorded, so never charged.
            try await c.execute("DELETE FROM credit_holds" + (alive.isEmpty ? "" : " WHERE owner NOT IN (\(SQLFragment.placeholders(alive.count)))"),
                                alive.map { .text($0) })
            var requeued = 0, unknown = 0
            for r in rows {
                let campaign = r.int(1)
                if providerDeduplicates(campaign) {
                    try await c.execute("UPDATE campaign_messages SET status = 'queued', claimed_by = NULL, next_attempt_at = 0, updated_at = ? WHERE id = ? AND status = 'sending'", [.int(now), .int(r.int(0))])
                    requeued += 1
                } else {
                    try await c.execute("UPDATE campaign_messages SET status = 'unknown', error_code = 'in_doubt', error_message = 'in flight during a crash; the provider cannot deduplicate, so it was not resent', updated_at = ? WHERE id = ? AND status = 'sending'", [.int(now), .int(r.int(0))])
                    try await c.execute("UPDATE campaigns SET unknown_count = unknown_count + 1, queued_count = queued_count - 1 WHERE id = ?", [.int(campaign)])
                    unknown += 1
                }
            }
            return (requeued, unknown)
        }
    }

    /// Records this worker's heartbeat; returns the ids of workers seen within `ttl` ms.
    public func heartbeat(worker: String, now: Int64, ttl: Int64) async throws -> [String] {
        try await db.transaction { c in
            try await c.execute("INSERT INTO workers (id, heartbeat_at) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at", [.text(worker), .int(now)])
            try await c.execute("DELETE FROM workers WHERE heartbeat_at < ?", [.int(now - 10 * ttl)])
            return try await c.query("SELECT id FROM workers WHERE heartbeat_at >= ?", [.int(now - ttl)]).map { $0.text(0) }
        }
    }

    /// Takes or renews the lease `name` for `owner`; true when `owner` holds it.
    public func lease(_ name: String, owner: String, now: Int64, ttl: Int64) async throws -> Bool {
        try await db.transaction { c in
            try await c.execute("INSERT INTO leases (name, owner, until_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until_at = excluded.until_at WHERE leases.owner = excluded.owner OR leases.until_at < ?",
                                [.text(name), .text(owner), .int(now + ttl), .int(now)])
            return try await c.queryOne("SELECT owner FROM leases WHERE name = ?", [.text(name)])?.text(0) == owner
        }
    }

    /// Chooses the A/B winner of campaigns whose test time is over (ties go to A); returns how many.
    @discardableResult
    public func chooseDueWinners(now: Int64) async throws -> Int {
        try await db.transaction { c in
            let rows = try await c.query("SELECT id, definition, started_at FROM campaigns WHERE status IN ('sending', 'paused') AND ab_test_winner IS NULL AND started_at IS NOT NULL", [])
            var chosen = 0
            for r in rows {
                guard let fields = try? CampaignStore.decoder.decode(CampaignFields.self, from: Data(r.text(1).utf8)), fields.isABTest else { continue }
                guard now >= r.int(2) + Int64(fields.resolvedDurationMinutes) * 60_000 else { continue }
                let stats = try await c.query("""
                    SELECT variant, SUM(CASE WHEN status IN ('sent', 'delivered', 'undelivered') THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'delivered' THEN 1 ELSE 0 END),
                           SUM(CASE WHEN replied_at IS NOT NULL THEN 1 ELSE 0 END)
                    FROM campaign_messages WHERE campaign_id = ? AND variant IN ('A', 'B') GROUP BY variant
                    """, [.int(r.int(0))])
                var score: [String: Double] = ["A": 0, "B": 0]
                for s in stats {
                    let sent = Double(s.int(1))
                    guard sent > 0 else { continue }
                    switch fields.resolvedABTestMetric {
                    case .deliveryRate: score[s.text(0)] = Double(s.int(2)) / sent
                    case .replyRate: score[s.text(0)] = Double(s.int(3)) / sent
                    case .clickRate: score[s.text(0)] = 0
                    }
                }
                let winner = (score["B"] ?? 0) > (score["A"] ?? 0) ? "B" : "A"
                chosen += try await c.execute("UPDATE campaigns SET ab_test_winner = ? WHERE id = ? AND ab_test_winner IS NULL", [.text(winner), .int(r.int(0))])
            }
            return chosen
        }
    }
}
