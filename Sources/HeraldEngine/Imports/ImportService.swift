import Foundation
import HeraldCore
import HeraldStore
import Logging
import PhoneNumbers
import ServiceLifecycle

/// Runs CSV import jobs in the background (API.md §3): streams each uploaded file through the CSV
/// reader in 1 MiB chunks, normalizes every row, and writes batches in single transactions, so
/// memory stays flat whatever the file size. Jobs interrupted by a crash or shutdown restart from
/// the beginning of their file (rows merge by phone, so rerunning is harmless).
public final class ImportService: Service, Sendable {
    let storage: Storage
    let logger: Logger
    let owner: String
    let signals: AsyncStream<Void>
    let signal: AsyncStream<Void>.Continuation
    /// Rows per write transaction. 10,000 rather than 2,000 commits (and checkpoints) five times
    /// less often: ~13 % more rows/s on SQLite in `herald-bench import`. The cost: other writers
    /// of the same SQLite database wait for one batch (a few hundred milliseconds) at worst.
    public static let batchSize = 10_000
    static let leaseMillis: Int64 = 60_000

    public init(storage: Storage, logger: Logger = Logger(label: "herald.imports")) {
        self.storage = storage
        self.logger = logger
        self.owner = "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
        (self.signals, self.signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks the service to look for new jobs now.
    public func wake() { signal.yield() }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                // A tick every second, so jobs left by a crash or another node are picked up.
                group.addTask { [signal] in
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(1))
                        signal.yield()
                    }
                }
                signal.yield()
                for await _ in signals {
                    if Task.isShuttingDownGracefully { break }
                    do {
                        try await processPending()
                    } catch {
                        logger.error("import loop failed", metadata: ["error": "\(error)"])
                    }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: { [signal] in
            signal.finish()
        }
    }

    /// Processes every pending job whose file is on this machine. Public for tests.
    public func processPending() async throws {
        for job in try await storage.imports.pending() {
            if Task.isCancelled || Task.isShuttingDownGracefully { return }
            guard FileManager.default.fileExists(atPath: job.filePath) else { continue }
            guard try await storage.imports.lease(job, owner: owner, until: Clock.nowMillis() + Self.leaseMillis) else { continue }
            do {
                try await process(job)
            } catch is CancellationError {
                return
            } catch {
                logger.error("import failed", metadata: ["import": "\(job.id)", "error": "\(error)"])
                try await storage.imports.finish(job, failure: Self.failureReason(error, job: job.id))
                try? FileManager.default.removeItem(atPath: job.filePath)
            }
        }
    }

    struct Stopped: Error {}

    /// The `failureReason` a client reads: a conflict the rows caused says which; anything else
    /// (a database error, whose text may name tables or values) points to the server log.
    static func failureReason(_ error: any Error, job: String) -> String {
        if case StoreError.conflict(let field, let message) = error {
            return "The import stopped: \(field): \(message)."
        }
        return "The import stopped because of a server error; the server log has the details (import \(job))."
    }

    /// A parsed batch handed from the parsing task to the writing task.
    struct Batch: Sendable {
        var rows: [ImportStore.Row]
        var errors: [ImportJob.RowError]
        var totalRows: Int64
        var invalid: Int64
    }

    /// How the parsing task ended.
    struct ParseOutcome: Sendable {
        var headerProblem: ValidationError?
        var dataRows: Int64
        var sawHeader: Bool
    }

    /// Bytes of the file parsed between two looks for complete batches.
    static let sliceSize = 1 << 16

    /// Batches parsed ahead of the writer at most; bounds memory whatever the file size.
    static let batchesInFlight = 2

    func process(_ job: ImportStore.Pending) async throws {
        try await storage.imports.restart(job)
        let listKey = try await job.options.listId.asyncMap { try await storage.imports.listKey(job.scope, id: $0) } ?? nil
        guard FileManager.default.isReadableFile(atPath: job.filePath) else {
            try await storage.imports.finish(job, failure: "The uploaded file is missing.")
            return
        }
        // Parsing (CSV, phone numbers, field rules) and writing each keep one core busy: the
        // parser runs in a child task and hands batches to the writer (this task) through a
        // stream; it waits for a credit whenever `batchesInFlight` batches are unwritten.
        let (batches, batchSink) = AsyncStream.makeStream(of: Batch.self)
        let (credits, creditSink) = AsyncStream.makeStream(of: Void.self)
        let (outcome, written) = try await withThrowingTaskGroup(of: ParseOutcome.self) { group in
            group.addTask {
                defer { batchSink.finish() }
                return try await Self.parse(job, into: batchSink, credits: credits)
            }
            defer { creditSink.finish() }
            var progress = ImportStore.Progress()
            for await batch in batches {
                try Task.checkCancellation()
                progress.totalRows = batch.totalRows
                progress.invalid = batch.invalid
                progress = try await storage.imports.writeBatch(job, listKey: listKey, rows: batch.rows, errors: batch.errors, progress: progress)
                _ = try await storage.imports.lease(job, owner: owner, until: Clock.nowMillis() + Self.leaseMillis)
                creditSink.yield()
            }
            guard let outcome = try await group.next() else { throw CancellationError() }
            return (outcome, progress.created + progress.merged + progress.duplicateRows)
        }
        if let headerProblem = outcome.headerProblem {
            let message = headerProblem.issues.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
            try await storage.imports.finish(job, failure: "The CSV header is not usable: \(message)")
        } else if outcome.dataRows == 0 && outcome.sawHeader == false {
            try await storage.imports.finish(job, failure: "The file is empty.")
        } else {
            try await storage.imports.finish(job, failure: nil)
        }
        do {
            try await storage.imports.refreshStatistics(afterWriting: written)
        } catch {
            logger.warning("could not refresh the contact tables' statistics after an import", metadata: ["import": "\(job.id)", "error": "\(error)"])
        }
        try? FileManager.default.removeItem(atPath: job.filePath)
    }

    /// Streams the file through the CSV reader (1 MiB reads, parsed 64 KiB at a time) and yields batches of at most
    /// `batchSize` rows with the row errors found since the previous batch (a batch is also
    /// yielded once `batchSize` errors are waiting; the last carries trailing errors), waiting for a credit
    /// from `credits` before getting more than `batchesInFlight` batches ahead.
    static func parse(_ job: ImportStore.Pending, into sink: AsyncStream<Batch>.Continuation, credits: AsyncStream<Void>) async throws -> ParseOutcome {
        guard let handle = FileHandle(forReadingAtPath: job.filePath) else { throw CocoaError(.fileNoSuchFile) }
        defer { try? handle.close() }
        var parser = ImportRowParser(options: job.options)
        var reader = CSVReader()
        var pendingCredits = credits.makeAsyncIterator()
        var inFlight = 0
        reading: while true {
            if Task.isCancelled || Task.isShuttingDownGracefully { throw CancellationError() }
            let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            // The chunk is parsed a slice at a time, each followed by the batches it completes:
            // a file of only invalid rows holds at most a batch and a slice of errors in memory
            // (64 KiB of two-byte rows is 32,768 errors; a whole chunk would be 524,288).
            var sliceStart = chunk.startIndex
            repeat {
                let sliceEnd = min(chunk.endIndex, sliceStart + Self.sliceSize)
                if chunk.isEmpty {
                    reader.finish { parser.consume($0) }
                } else {
                    chunk[sliceStart..<sliceEnd].withUnsafeBytes { reader.feed($0) { parser.consume($0) } }
                }
                sliceStart = sliceEnd
                if parser.headerProblem != nil { break reading }
                var offset = 0
                while parser.rows.count - offset >= batchSize || parser.errors.count >= batchSize
                        || (chunk.isEmpty && (offset < parser.rows.count || !parser.errors.isEmpty)) {
                    let end = min(parser.rows.count, offset + batchSize)
                    let batch = Batch(rows: Array(parser.rows[offset..<end]), errors: parser.errors,
                                      totalRows: parser.dataRows - Int64(parser.rows.count - end), invalid: parser.invalidRows)
                    offset = end
                    parser.errors.removeAll(keepingCapacity: true)
                    if inFlight >= batchesInFlight {
                        guard await pendingCredits.next() != nil else { throw CancellationError() }
                        inFlight -= 1
                    }
                    inFlight += 1
                    sink.yield(batch)
                }
                parser.rows.removeFirst(offset)
            } while sliceStart < chunk.endIndex
            if chunk.isEmpty { break }
        }
        return ParseOutcome(headerProblem: parser.headerProblem, dataRows: parser.dataRows, sawHeader: parser.sawHeader)
    }
}
/// Turns CSV records into normalized contact rows and row errors.
struct ImportRowParser {
    let options: ImportStore.Options
    var header: ContactImportHeader?
    var headerProblem: ValidationError?
    var sawHeader = false
    var rows: [ImportStore.Row] = []
    var errors: [ImportJob.RowError] = []
    var dataRows: Int64 = 0
    var invalidRows: Int64 = 0
    let phones = PhoneNumberKit.shared

    init(options: ImportStore.Options) { self.options = options }

    mutating func consume(_ record: CSVRecord) {
        // A header that cannot be used ends the import: later records are not headers.
        if headerProblem != nil { return }
        guard let header else {
            if record.isBlank { return }
            sawHeader = true
            do {
                self.header = try ContactImportHeader(record: record)
            } catch {
                headerProblem = error
            }
            return
        }
        if record.isBlank { return }
        dataRows += 1
        let row: ContactImportRow
        switch header.decode(record) {
        case .failure(let e):
            // One error per failing field, the row counted once.
            invalidRows += 1
            for issue in e.issues { errors.append(ImportJob.RowError(row: Int64(record.rowNumber), field: issue.field, message: issue.message)) }
            if e.issues.isEmpty { errors.append(ImportJob.RowError(row: Int64(record.rowNumber), field: "row", message: "cannot be read")) }
            return
        case .success(let r): row = r
        }
        let raw = row.phone
        guard !raw.isEmpty else {
            invalid(Int64(record.rowNumber), "phone", "is empty")
            return
        }
        let number: PhoneNumber
        do {
            number = try phones.parse(raw, defaultRegion: options.defaultCountry)
        } catch {
            invalid(Int64(record.rowNumber), "phone", error.message)
            return
        }
        var ch = ContactChanges()
        ch.phone = number.e164
        ch.isTextable = number.isTextable
        var issues = IssueCollector()
        func set(_ value: String?, _ validate: (String, inout IssueCollector) -> String?) -> FieldUpdate<String> {
            guard let value, let ok = validate(value, &issues) else { return .unchanged }
            return .set(ok)
        }
        ch.firstName = set(row.firstName) { ContactFieldRules.validateName($0, field: "firstName", into: &$1) }
        ch.lastName = set(row.lastName) { ContactFieldRules.validateName($0, field: "lastName", into: &$1) }
        ch.email = set(row.email) { ContactFieldRules.validateEmail($0, into: &$1) }
        ch.city = set(row.city) { ContactFieldRules.validateCity($0, into: &$1) }
        ch.state = set(row.state) { ContactFieldRules.validateState($0, into: &$1) }
        ch.zip = set(row.zip) { ContactFieldRules.validateZip($0, into: &$1) }
        ch.timezone = set(row.timezone) { v, issues in
            guard TimeZone(identifier: v) != nil else { issues.add("timezone", "is not an IANA time zone"); return nil }
            return v
        }
        let tags = row.tags + options.tags
        if !tags.isEmpty { ch.tags = tags }
        if !row.customFields.isEmpty { ch.customFields = row.customFields.mapValues { Optional($0) } }
        // An opt-out is honoured, never undone by a file: `optedOut` false (an old CRM export)
        // leaves a contact's opt-out in place; only `POST /api/contacts/{id}/opt-in` resubscribes.
        ch.optedOut = row.optedOut == true ? true : nil
        // A bad optional field is reported but does not drop the row.
        for issue in issues.issues { errors.append(ImportJob.RowError(row: Int64(record.rowNumber), field: issue.field, message: issue.message)) }
        rows.append(ImportStore.Row(rowNumber: Int64(record.rowNumber), changes: ch))
    }

    mutating func invalid(_ row: Int64, _ field: String, _ message: String) {
        invalidRows += 1
        errors.append(ImportJob.RowError(row: row, field: field, message: message))
    }
}

extension Optional {
    func asyncMap<U>(_ transform: (Wrapped) async throws -> U) async rethrows -> U? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
