import ArgumentParser
import CSQLite
import Foundation
import HeraldCore
import HeraldEngine
import HeraldStore

/// `herald-bench estimate`: times `CampaignEstimator.estimate` over every contact for a message
/// with merge fields, per audience size in its own child process, against a raw scan of the
/// columns the message reads (the least any per-recipient estimate must do), and compares the
/// estimate's own peak memory across sizes.
struct EstimateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "estimate", abstract: "Campaign estimate time and memory over a stored audience.")

    @Option(name: .long, help: "Contacts in the audience; repeat for several sizes (e.g. --recipients 100000 --recipients 1000000).")
    var recipients: [Int] = [1_000_000]

    @Option(name: .long, help: "Scratch directory.")
    var dir: String = NSTemporaryDirectory()

    func run() async throws {
        var peaks: [Int: Int] = [:]
        for n in recipients {
            let output = try runSelf(["estimate-run", "--recipients", String(n), "--dir", dir])
            guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
                  let r = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Double] else {
                throw BenchError("unexpected child output: \(output)")
            }
            let seconds = r["seconds"]!, raw = r["rawSeconds"]!
            peaks[n] = Int(r["peakRSS"]!)
            print("estimate \(n) recipients: \(fmt(seconds, 2))s\(seconds < 3 ? "" : "  <-- over the 3 s goal") | raw scan of the merge columns \(fmt(raw, 2))s | ratio estimate/raw \(fmt(seconds / raw, 2)) | segments \(Int(r["segments"]!)) verified | peak RSS during the estimate \(mib(Int(r["peakRSS"]!)))")
        }
        if peaks.count >= 2, let small = peaks.keys.min(), let big = peaks.keys.max() {
            print("estimate peak RSS \(big) / \(small) recipients: \(mib(peaks[big]!)) / \(mib(peaks[small]!)) = \(fmt(Double(peaks[big]!) / Double(peaks[small]!), 2))x")
        }
    }
}

/// One measured estimate (a child process of `estimate`): prints one JSON line.
struct EstimateRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "estimate-run", abstract: "One estimate run (used by `estimate`).", shouldDisplay: false)

    @Option(name: .long) var recipients: Int = 1_000_000
    @Option(name: .long) var dir: String = NSTemporaryDirectory()

    func run() async throws {
        let s = try await DeliveryBenchSetup.make(dir: dir, name: "estimate", recipients: recipients)
        var fields = CampaignFields()
        fields.name = "Bench"
        fields.message = "Hi {{firstName}}, {{city}} deals this week: 20% off everything in store. Reply STOP to opt out."
        fields.contactFilter = .object([:])
        // Peak RSS of the estimate itself, not of filling the database: reset VmHWM first.
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
        let t0 = now()
        let e = try await CampaignEstimator(storage: s.storage).estimate(s.scope, organization: s.organization, fields: fields,
                                                                        audience: .stored(.filter(ContactFilter())), now: DeliveryBenchSetup.noon)
        let seconds = now() - t0
        let peak = peakRSSBytes()
        // Expected segments, computed independently: the bench's names and cities cycle, so
        // render each (firstName, city) pair of the fill once and weigh it by its count.
        var expected: Int64 = 0
        var pairs: [String: Int64] = [:]
        for i in 0..<recipients {
            pairs["\(i % DataGenerator.firstNames.count) \(i % DataGenerator.cities.count)", default: 0] += 1
        }
        let template = MessageTemplate(parsing: fields.message!)
        for (key, count) in pairs {
            let parts = key.split(separator: " ").map { Int($0)! }
            let body = template.render(with: MergeFieldDictionary(["firstName": DataGenerator.firstNames[parts[0]], "city": DataGenerator.cities[parts[1]]]))
            expected += Int64(SegmentCounter.count(body).segments) * count
        }
        guard e.recipients == Int64(recipients), e.totalSegments == expected else {
            throw BenchError("estimate counted \(e.recipients) recipients and \(e.totalSegments) segments; expected \(recipients) and \(expected)")
        }
        // Baseline: one raw pass over the columns the message reads, every row stepped and its
        // text read, in the same process and database.
        let rawSeconds = try await s.db.withWriter { c -> Double in
            let statement = try c.prepare("SELECT first_name, city FROM contacts WHERE org_id = ? AND opted_out_at IS NULL AND is_textable = 1")
            defer { sqlite3_reset(statement) }
            sqlite3_bind_int64(statement, 1, s.scope.key)
            let t1 = now()
            var bytes = 0
            while sqlite3_step(statement) == SQLITE_ROW {
                bytes += Int(sqlite3_column_bytes(statement, 0)) + Int(sqlite3_column_bytes(statement, 1))
                _ = sqlite3_column_text(statement, 0)
                _ = sqlite3_column_text(statement, 1)
            }
            guard bytes > 0 else { throw BenchError("raw scan read nothing") }
            return now() - t1
        }
        print("{\"seconds\": \(seconds), \"rawSeconds\": \(rawSeconds), \"peakRSS\": \(peak), \"segments\": \(e.totalSegments)}")
        await s.close()
    }
}
