import Foundation
import HeraldCore
import HeraldStore

/// The simulated carrier's own record of what every phone received: a SQLite file of its own
/// (never Herald's database), in WAL mode, written and committed before a submit is
/// acknowledged, as a real carrier's would be. It also keeps the carrier's queue of receipts
/// not yet emitted, so receipts pending at shutdown are emitted after a restart.
///
/// An actor: its one connection is used by one task at a time, and callers that find it busy
/// suspend instead of blocking a thread. Each call runs a short synchronous transaction (a
/// batch of 1,000 messages takes a few milliseconds).
public actor SimulatorRecord {
    /// A message to record, with what the simulated carrier decided for it.
    struct Entry: Sendable {
        var message: OutboundMessage
        /// The receipt to emit after the latency; `nil` for never.
        var outcome: DeliveryReceipt.Outcome?
        /// Throttle the first submit of this message id (rule `0003`).
        var throttleOnce: Bool
    }

    /// What became of one entry.
    enum EntryResult: Sendable, Hashable {
        /// Recorded now, or recorded earlier under the same message id: acknowledged with this id.
        case accepted(providerMessageId: String)
        /// First submit of a throttle-once message: not recorded.
        case throttled
    }

    /// A receipt waiting for its time.
    struct PendingReceipt: Sendable, Hashable {
        var sequence: Int64
        var providerMessageId: String
        var outcome: DeliveryReceipt.Outcome
        var dueAtMilliseconds: Int64
    }

    /// The file's path.
    public nonisolated let path: String
    private let connection: SQLiteConnection
    private let idPrefix: String
    private var nextSequence: Int64
    /// Receipts in sequence order (which is due order: one latency per process); consumed from
    /// `pendingHead`.
    private var pending: [PendingReceipt] = []
    private var pendingHead = 0
    private var closed = false

    private static let insertSQL = """
        INSERT INTO simulator_messages (seq, message_id, organization_id, channel, "to", "from", body, media_url, segments,
            encoding, received_at, provider_message_id, status, receipt_outcome, receipt_due_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'accepted', ?, ?)
        ON CONFLICT (message_id) DO NOTHING RETURNING seq
        """
    private static let throttleSQL = "INSERT INTO simulator_throttled (message_id) VALUES (?) ON CONFLICT (message_id) DO NOTHING RETURNING 1"
    private static let columns = """
        seq, message_id, organization_id, channel, "to", "from", body, media_url, segments, encoding, received_at,
        provider_message_id, status
        """

    /// Opens (creating if needed) the record at `path` and loads the receipts still pending.
    public init(path: String) throws {
        self.path = path
        let connection = try SQLiteConnection(path: path)
        try connection.run("""
            CREATE TABLE IF NOT EXISTS simulator_messages (
                seq INTEGER PRIMARY KEY,
                message_id TEXT NOT NULL UNIQUE,
                organization_id TEXT NOT NULL,
                channel TEXT NOT NULL,
                "to" TEXT NOT NULL,
                "from" TEXT NOT NULL,
                body TEXT NOT NULL,
                media_url TEXT,
                segments INTEGER NOT NULL,
                encoding TEXT NOT NULL,
                received_at INTEGER NOT NULL,
                provider_message_id TEXT NOT NULL,
                status TEXT NOT NULL,
                receipt_outcome TEXT,
                receipt_due_at INTEGER
            );
            CREATE INDEX IF NOT EXISTS simulator_messages_org ON simulator_messages (organization_id, seq);
            CREATE TABLE IF NOT EXISTS simulator_throttled (message_id TEXT PRIMARY KEY) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS simulator_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
            """)
        let maxSequence = try connection.querySync("SELECT coalesce(max(seq), 0) FROM simulator_messages").first?.int(0) ?? 0
        let receiptedThrough = try connection.querySync("SELECT value FROM simulator_state WHERE key = 'receipted_through'").first?.int(0) ?? 0
        var pending: [PendingReceipt] = []
        for row in try connection.querySync("""
            SELECT seq, provider_message_id, receipt_outcome, receipt_due_at FROM simulator_messages
            WHERE seq > ? AND status = 'accepted' AND receipt_outcome IS NOT NULL ORDER BY seq
            """, [.int(receiptedThrough)]) {
            guard let outcome = DeliveryReceipt.Outcome(rawValue: row.text(2)) else { continue }
            pending.append(PendingReceipt(sequence: row.int(0), providerMessageId: row.text(1), outcome: outcome,
                                          dueAtMilliseconds: row.optionalInt(3) ?? 0))
        }
        self.connection = connection
        self.nextSequence = maxSequence + 1
        self.pending = pending
        // Provider ids are a per-open random prefix plus the sequence: unique within the file
        // and, with overwhelming likelihood, across a deleted and recreated file.
        self.idPrefix = "SM" + String(UInt32.random(in: .min ... .max), radix: 16) + "-"
    }

    /// Closes the file; later calls throw.
    public func close() {
        guard !closed else { return }
        closed = true
        connection.close()
    }

    private func ensureOpen() throws {
        if closed { throw SQLError(kind: .connection, message: "the simulator record is closed") }
    }

    // MARK: writing

    /// Records a batch in one transaction with one prepared statement; returns one result per
    /// entry. Committed before it returns. Receipts of newly recorded messages are queued, due
    /// `latencyMilliseconds` after `receivedAt`.
    func record(_ entries: [Entry], receivedAt: Int64, latencyMilliseconds: Int64) throws -> [EntryResult] {
        try ensureOpen()
        let firstSequence = nextSequence
        var results: [EntryResult] = []
        results.reserveCapacity(entries.count)
        var queued: [PendingReceipt] = []
        try connection.run("BEGIN IMMEDIATE")
        do {
            let insert = try connection.statement(Self.insertSQL)
            let dueAt = receivedAt + latencyMilliseconds
            for entry in entries {
                if entry.throttleOnce {
                    let throttle = try connection.statement(Self.throttleSQL)
                    throttle.bind(1, entry.message.messageId)
                    let first = try throttle.step()
                    throttle.reset()
                    if first {
                        results.append(.throttled)
                        continue
                    }
                }
                let m = entry.message
                let sequence = nextSequence
                let providerMessageId = idPrefix + String(sequence)
                insert.bind(1, sequence)
                insert.bind(2, m.messageId)
                insert.bind(3, m.organizationId)
                insert.bind(4, m.channel.rawValue)
                insert.bind(5, m.to)
                insert.bind(6, m.from)
                insert.bind(7, m.body)
                insert.bind(8, m.mediaUrl)
                insert.bind(9, Int64(m.segments))
                insert.bind(10, m.encoding.rawValue)
                insert.bind(11, receivedAt)
                insert.bind(12, providerMessageId)
                insert.bind(13, entry.outcome?.rawValue)
                insert.bind(14, entry.outcome == nil ? nil : dueAt)
                let inserted = try insert.step()
                insert.reset()
                if inserted {
                    nextSequence += 1
                    results.append(.accepted(providerMessageId: providerMessageId))
                    if let outcome = entry.outcome {
                        queued.append(PendingReceipt(sequence: sequence, providerMessageId: providerMessageId, outcome: outcome,
                                                     dueAtMilliseconds: dueAt))
                    }
                } else {
                    // Already accepted under this message id: acknowledge it again, record nothing.
                    let rows = try connection.querySync("SELECT provider_message_id FROM simulator_messages WHERE message_id = ?",
                                                        [.text(m.messageId)])
                    guard let existing = rows.first?.text(0) else {
                        throw SQLError(kind: .statement, message: "message \(m.messageId) conflicted but is not recorded")
                    }
                    results.append(.accepted(providerMessageId: existing))
                }
            }
            try connection.run("COMMIT")
        } catch {
            try? connection.run("ROLLBACK")
            nextSequence = firstSequence
            throw error
        }
        pending.append(contentsOf: queued)
        return results
    }

    /// Takes up to `limit` receipts due at `now` (epoch ms) off the queue; also returns when the
    /// next one is due. The caller emits them, then calls `markReceipted(_:)`.
    func takeDueReceipts(now: Int64, limit: Int) -> (due: [PendingReceipt], nextDueAt: Int64?) {
        var due: [PendingReceipt] = []
        while pendingHead < pending.count, due.count < limit, pending[pendingHead].dueAtMilliseconds <= now {
            due.append(pending[pendingHead])
            pendingHead += 1
        }
        if pendingHead > 4096, pendingHead * 2 > pending.count {
            pending.removeFirst(pendingHead)
            pendingHead = 0
        }
        return (due, pendingHead < pending.count ? pending[pendingHead].dueAtMilliseconds : nil)
    }

    /// Marks emitted receipts in the record (status `delivered`/`undelivered`) and advances the
    /// watermark below which no receipt is pending. `receipts` is what `takeDueReceipts`
    /// returned: a run of the queue, contiguous in sequence among receipted messages.
    func markReceipted(_ receipts: [PendingReceipt]) throws {
        guard let low = receipts.first?.sequence, let high = receipts.last?.sequence else { return }
        try ensureOpen()
        try connection.run("BEGIN IMMEDIATE")
        do {
            try connection.executeSync("""
                UPDATE simulator_messages SET status = receipt_outcome
                WHERE seq BETWEEN ? AND ? AND status = 'accepted' AND receipt_outcome IS NOT NULL
                """, [.int(low), .int(high)])
            try connection.executeSync("""
                INSERT INTO simulator_state (key, value) VALUES ('receipted_through', ?)
                ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)
                """, [.int(high)])
            try connection.run("COMMIT")
        } catch {
            try? connection.run("ROLLBACK")
            throw error
        }
    }

    /// Receipts queued and not yet emitted.
    public var pendingReceiptCount: Int { pending.count - pendingHead }

    // MARK: reading

    /// What phones of an organization received, oldest first: all of them, or only `to`'s;
    /// `after` is the `sequence` of the last message of the previous page.
    ///
    /// There is deliberately no index on `to`: a randomly ordered index costs a third of the
    /// submit throughput, so filtering by phone scans the organization's messages in order
    /// (fine for tests and the API's occasional look; ~1M rows a second).
    public func messages(organizationId: String, to: String? = nil, limit: Int = 50, after: Int64? = nil) throws -> [SimulatorMessage] {
        try ensureOpen()
        let rows: [SQLRow]
        if let to {
            rows = try connection.querySync("""
                SELECT \(Self.columns) FROM simulator_messages
                WHERE organization_id = ? AND "to" = ? AND seq > ? ORDER BY seq LIMIT ?
                """, [.text(organizationId), .text(to), .int(after ?? 0), .int(Int64(limit))])
        } else {
            rows = try connection.querySync("""
                SELECT \(Self.columns) FROM simulator_messages
                WHERE organization_id = ? AND seq > ? ORDER BY seq LIMIT ?
                """, [.text(organizationId), .int(after ?? 0), .int(Int64(limit))])
        }
        return rows.map(Self.message)
    }

    /// The message recorded under Herald's `messageId`, if any.
    public func message(messageId: String) throws -> SimulatorMessage? {
        try ensureOpen()
        return try connection.querySync("SELECT \(Self.columns) FROM simulator_messages WHERE message_id = ?",
                                        [.text(messageId)]).first.map(Self.message)
    }

    /// How many messages the organization's phones received.
    public func count(organizationId: String) throws -> Int {
        try ensureOpen()
        return Int(try connection.querySync("SELECT count(*) FROM simulator_messages WHERE organization_id = ?",
                                            [.text(organizationId)]).first?.int(0) ?? 0)
    }

    /// How many messages each phone of the organization received (to verify "each eligible
    /// phone exactly once").
    public func countsByPhone(organizationId: String) throws -> [String: Int] {
        try ensureOpen()
        var counts: [String: Int] = [:]
        for row in try connection.querySync("""
            SELECT "to", count(*) FROM simulator_messages WHERE organization_id = ? GROUP BY "to"
            """, [.text(organizationId)]) {
            counts[row.text(0)] = Int(row.int(1))
        }
        return counts
    }

    /// How many messages the whole record holds.
    public func totalCount() throws -> Int {
        try ensureOpen()
        return Int(try connection.querySync("SELECT count(*) FROM simulator_messages").first?.int(0) ?? 0)
    }

    private static func message(_ row: SQLRow) -> SimulatorMessage {
        SimulatorMessage(sequence: row.int(0), messageId: row.text(1), organizationId: row.text(2),
                         channel: Channel(rawValue: row.text(3)) ?? .text, to: row.text(4), from: row.text(5), body: row.text(6),
                         mediaUrl: row.optionalText(7), segments: Int(row.int(8)),
                         encoding: MessageEncoding(rawValue: row.text(9)) ?? .gsm7, receivedAtMilliseconds: row.int(10),
                         providerMessageId: row.text(11), status: SimulatorMessage.Status(rawValue: row.text(12)) ?? .accepted)
    }
}
