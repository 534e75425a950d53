import Foundation
import HeraldCore
import HeraldStore

/// The simulated carrier's own record of what every phone received: a SQLite file of its own
/// (never Herald's database), in WAL mode, written and committed before a submit is
/// acknowledged, as a real carrier's would be. It is also the carrier's queue of receipts not
/// yet emitted, so receipts pending at shutdown or at a crash are emitted after a restart.
///
/// Several processes may share one file (`herald serve --role worker` on PostgreSQL, all with
/// the same simulator): every write is one short `BEGIN IMMEDIATE` transaction, sequence numbers
/// are assigned by SQLite inside it (never from a per-process counter), and receipts are claimed
/// from the shared queue under a lease, so each receipt is emitted by one process; a process that
/// dies before confirming its claims leaves them to be claimed again when the lease runs out
/// (a repeat receipt, which receipt processing counts once).
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

    /// A receipt claimed for emission.
    struct PendingReceipt: Sendable, Hashable {
        var sequence: Int64
        var providerMessageId: String
        var outcome: DeliveryReceipt.Outcome
        /// When the receipt is stamped (acceptance plus latency).
        var dueAtMilliseconds: Int64
    }

    /// The file's path.
    public nonisolated let path: String
    private let connection: SQLiteConnection
    private let idPrefix: String
    /// Provider ids issued by this instance: `idPrefix` plus this counter.
    private var issued: Int64 = 0
    private var closed = false

    // `receipt_due_at` is when the receipt may next be claimed: acceptance plus latency, moved
    // forward by the lease when a process claims it. `receipt_at` is the receipt's own time.
    private static let insertSQL = """
        INSERT INTO simulator_messages (message_id, organization_id, channel, "to", "from", body, media_url, segments,
            encoding, received_at, provider_message_id, status, receipt_outcome, receipt_due_at, receipt_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'accepted', ?, ?, ?)
        ON CONFLICT (message_id) DO NOTHING RETURNING seq
        """
    private static let throttleSQL = "INSERT INTO simulator_throttled (message_id) VALUES (?) ON CONFLICT (message_id) DO NOTHING RETURNING 1"
    private static let pendingCondition = "status = 'accepted' AND receipt_outcome IS NOT NULL"
    private static let columns = """
        seq, message_id, organization_id, channel, "to", "from", body, media_url, segments, encoding, received_at,
        provider_message_id, status
        """

    /// Opens (creating or upgrading if needed) the record at `path`.
    public init(path: String) throws {
        self.path = path
        let connection = try SQLiteConnection(path: path)
        // Serialized with other processes opening the same file at the same moment.
        try connection.run("BEGIN IMMEDIATE")
        do {
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
                """)
            // Files written before receipts were claimed from the shared queue lack these.
            let columns = Set(try connection.querySync("PRAGMA table_info(simulator_messages)").map { $0.text(1) })
            if !columns.contains("receipt_at") {
                try connection.run("ALTER TABLE simulator_messages ADD COLUMN receipt_at INTEGER")
            }
            try connection.run("""
                CREATE INDEX IF NOT EXISTS simulator_messages_pending_receipts ON simulator_messages (receipt_due_at)
                    WHERE \(Self.pendingCondition);
                """)
            try connection.run("COMMIT")
        } catch {
            try? connection.run("ROLLBACK")
            connection.close()
            throw error
        }
        self.connection = connection
        // Provider ids are a random prefix per open plus a counter: unique across the processes
        // sharing the file and across restarts, with overwhelming likelihood (64 random bits).
        self.idPrefix = "SM" + String(UInt64.random(in: .min ... .max), radix: 16) + "-"
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

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction (the write lock is taken up front, so
    /// it never has to be upgraded; other processes wait on it through the busy timeout).
    private func writing<T>(_ body: () throws -> T) throws -> T {
        try ensureOpen()
        try connection.run("BEGIN IMMEDIATE")
        do {
            let value = try body()
            try connection.run("COMMIT")
            return value
        } catch {
            try? connection.run("ROLLBACK")
            throw error
        }
    }

    // MARK: writing

    /// Records a batch in one transaction with one prepared statement; returns one result per
    /// entry. Committed before it returns. Receipts of newly recorded messages are queued in the
    /// record, due `latencyMilliseconds` after `receivedAt`.
    func record(_ entries: [Entry], receivedAt: Int64, latencyMilliseconds: Int64) throws -> [EntryResult] {
        let firstIssued = issued
        do {
            return try writing { try insert(entries, receivedAt: receivedAt, dueAt: receivedAt + latencyMilliseconds) }
        } catch {
            issued = firstIssued
            throw error
        }
    }

    private func insert(_ entries: [Entry], receivedAt: Int64, dueAt: Int64) throws -> [EntryResult] {
        var results: [EntryResult] = []
        results.reserveCapacity(entries.count)
        let insert = try connection.statement(Self.insertSQL)
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
            let providerMessageId = idPrefix + String(issued + 1)
            insert.bind(1, m.messageId)
            insert.bind(2, m.organizationId)
            insert.bind(3, m.channel.rawValue)
            insert.bind(4, m.to)
            insert.bind(5, m.from)
            insert.bind(6, m.body)
            insert.bind(7, m.mediaUrl)
            insert.bind(8, Int64(m.segments))
            insert.bind(9, m.encoding.rawValue)
            insert.bind(10, receivedAt)
            insert.bind(11, providerMessageId)
            insert.bind(12, entry.outcome?.rawValue)
            insert.bind(13, entry.outcome == nil ? nil : dueAt)
            insert.bind(14, entry.outcome == nil ? nil : dueAt)
            let inserted = try insert.step()
            insert.reset()
            if inserted {
                issued += 1
                results.append(.accepted(providerMessageId: providerMessageId))
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
        return results
    }

    /// Claims up to `limit` receipts due at `now` (epoch ms) for this process: they cannot be
    /// claimed again until `now + leaseMilliseconds`. Also returns when the earliest receipt not
    /// claimed is due. The caller emits them, then calls `confirmReceipts(_:)`; receipts never
    /// confirmed (the process died) are claimed again after the lease.
    ///
    /// Polling is a read (no lock) unless something is due.
    func claimDueReceipts(now: Int64, limit: Int, leaseMilliseconds: Int64) throws -> (due: [PendingReceipt], nextDueAt: Int64?) {
        try ensureOpen()
        let earliest = try connection.querySync("SELECT min(receipt_due_at) FROM simulator_messages WHERE \(Self.pendingCondition)")
            .first?.optionalInt(0)
        guard let earliest, earliest <= now else { return ([], earliest) }
        let due: [PendingReceipt] = try writing {
            try connection.querySync("""
                UPDATE simulator_messages SET receipt_due_at = ?
                WHERE seq IN (SELECT seq FROM simulator_messages WHERE \(Self.pendingCondition) AND receipt_due_at <= ?
                              ORDER BY receipt_due_at LIMIT ?)
                RETURNING seq, provider_message_id, receipt_outcome, coalesce(receipt_at, received_at)
                """, [.int(now + leaseMilliseconds), .int(now), .int(Int64(limit))]).compactMap { row in
                guard let outcome = DeliveryReceipt.Outcome(rawValue: row.text(2)) else { return nil }
                return PendingReceipt(sequence: row.int(0), providerMessageId: row.text(1), outcome: outcome,
                                      dueAtMilliseconds: row.int(3))
            }
        }
        let next = try connection.querySync("SELECT min(receipt_due_at) FROM simulator_messages WHERE \(Self.pendingCondition)")
            .first?.optionalInt(0)
        return (due.sorted { $0.sequence < $1.sequence }, next)
    }

    /// Marks emitted receipts in the record (status `delivered`/`undelivered`): they will not
    /// be emitted again.
    func confirmReceipts(_ sequences: [Int64]) throws {
        guard !sequences.isEmpty else { return }
        try writing {
            let update = try connection.statement("UPDATE simulator_messages SET status = receipt_outcome WHERE seq = ? AND \(Self.pendingCondition)")
            for sequence in sequences {
                update.bind(1, sequence)
                _ = try update.step()
                update.reset()
            }
        }
    }

    /// Gives claimed, unconfirmed receipts back to the queue at once (at shutdown: the engine
    /// may not have read them), instead of waiting for their lease to run out.
    func releaseReceipts(_ sequences: [Int64]) throws {
        guard !sequences.isEmpty else { return }
        try writing {
            let update = try connection.statement("""
                UPDATE simulator_messages SET receipt_due_at = coalesce(receipt_at, received_at) WHERE seq = ? AND \(Self.pendingCondition)
                """)
            for sequence in sequences {
                update.bind(1, sequence)
                _ = try update.step()
                update.reset()
            }
        }
    }

    /// Receipts queued and not yet confirmed as emitted (by any process sharing the file).
    public func pendingReceiptCount() throws -> Int {
        try ensureOpen()
        return Int(try connection.querySync("SELECT count(*) FROM simulator_messages WHERE \(Self.pendingCondition)").first?.int(0) ?? 0)
    }

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
