import Foundation
import HeraldCore
import HeraldProviders
import HeraldStore
import Logging
import ServiceLifecycle
import Testing

/// A temporary directory holding one simulator record, removed afterwards.
struct SimulatorFixture {
    let directory: URL
    var path: String { directory.appendingPathComponent("simulator.db").path }

    static func with<T>(_ body: (SimulatorFixture) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("herald-simulator-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try await body(SimulatorFixture(directory: directory))
    }

    func provider(latency: Duration = .milliseconds(20), maxPerSecond: Double? = nil) throws -> SimulatorProvider {
        try SimulatorProvider(configuration: .init(databasePath: path, latency: latency, maxPerSecond: maxPerSecond,
                                                   throttleRetryAfter: .milliseconds(5), receiptLease: .seconds(30)))
    }
}

func outbound(_ to: String, id: String = UUID().uuidString.lowercased(), organization: String = "org-a", body: String = "Hello")
    -> OutboundMessage {
    OutboundMessage(messageId: id, organizationId: organization, channel: .text, from: "+15550001111", to: to, body: body,
                    mediaUrl: nil, encoding: .gsm7, segments: 1)
}

/// Runs the provider's service until `count` receipts arrived or `timeout` passed; returns what
/// arrived (the provider's stream is finished afterwards: one run per provider).
func runCollectingReceipts(_ provider: SimulatorProvider, count: Int, timeout: Duration = .seconds(5)) async throws -> [DeliveryReceipt] {
    enum Event: Sendable { case receipts([DeliveryReceipt]), stopped, timedOut }
    return try await withThrowingTaskGroup(of: Event.self) { group in
        group.addTask { try await provider.run(); return .stopped }
        group.addTask {
            var got: [DeliveryReceipt] = []
            if count > 0 {
                for await receipt in provider.receipts {
                    got.append(receipt)
                    // Acknowledged as the engine does once a receipt is committed.
                    await provider.acknowledge([receipt])
                    if got.count == count { break }
                }
            }
            return .receipts(got)
        }
        group.addTask { try? await Task.sleep(for: timeout); return .timedOut }
        var collected: [DeliveryReceipt] = []
        while let event = try await group.next() {
            switch event {
            case .receipts(let r): collected = r; group.cancelAll()
            case .timedOut: group.cancelAll()
            case .stopped: break
            }
        }
        return collected
    }
}

@Suite("Simulator provider", .timeLimit(.minutes(10)))
struct SimulatorProviderTests {
    @Test("rules by the last four digits", arguments: [
        ("+15555550000", SimulatorProvider.Rule.reject),
        ("+15555550001", .undelivered),
        ("+15555550002", .neverReceipted),
        ("+15555550003", .throttleOnce),
        ("+15555550004", .deliver),
        ("+15555551000", .deliver),
        ("+1 555 555 0001", .undelivered),
        ("000", .deliver),
        ("+447700900123", .deliver),
    ])
    func rules(destination: String, rule: SimulatorProvider.Rule) {
        #expect(SimulatorProvider.Rule(destination: destination) == rule)
    }

    @Test("0000 is rejected at submit, permanently, and not recorded")
    func rejects() async throws {
        try await SimulatorFixture.with { fixture in
            let provider = try fixture.provider()
            await #expect(throws: ProviderError.self) { _ = try await provider.submit(outbound("+15555550000")) }
            do throws(ProviderError) {
                _ = try await provider.submit(outbound("+15555550000"))
                Issue.record("accepted a 0000 destination")
            } catch {
                #expect(error.code == "invalid_number")
                #expect(!error.retryable)
            }
            #expect(try await provider.count(organizationId: "org-a") == 0)
        }
    }

    @Test("receipts by rule: 0001 undelivered, 0002 never, 0003 and others delivered")
    func receiptsByRule() async throws {
        try await SimulatorFixture.with { fixture in
            let provider = try fixture.provider(latency: .milliseconds(10))
            let undelivered = try await provider.submit(outbound("+15555550001"))
            let never = try await provider.submit(outbound("+15555550002"))
            let delivered = try await provider.submit(outbound("+15555559876"))
            let throttledId = "throttled-1"
            await #expect(throws: ProviderError.self) { _ = try await provider.submit(outbound("+15555550003", id: throttledId)) }
            let throttled = try await provider.submit(outbound("+15555550003", id: throttledId))
            // Ask for one more than expected: the 0002 message must not produce it. Acknowledged
            // receipts set their message's status in the record.
            let receipts = try await runCollectingReceipts(provider, count: 4, timeout: .seconds(2))
            #expect(receipts.count == 3)
            let byId = Dictionary(uniqueKeysWithValues: receipts.map { ($0.providerMessageId, $0) })
            #expect(byId[undelivered.providerMessageId]?.outcome == .undelivered)
            #expect(byId[undelivered.providerMessageId]?.errorCode != nil)
            #expect(byId[delivered.providerMessageId]?.outcome == .delivered)
            #expect(byId[throttled.providerMessageId]?.outcome == .delivered)
            #expect(byId[never.providerMessageId] == nil)
            #expect(receipts.allSatisfy { $0.providerName == "simulator" })
            let messages = try await provider.messages(organizationId: "org-a", limit: 10)
            #expect(messages.count == 4)
            let status = Dictionary(uniqueKeysWithValues: messages.map { ($0.to, $0.status) })
            #expect(status["+15555550001"] == .undelivered)
            #expect(status["+15555550002"] == .accepted)
            #expect(status["+15555550003"] == .delivered)
            #expect(status["+15555559876"] == .delivered)
        }
    }

    @Test("0003 is throttled once per message id, retryably, then accepted")
    func throttleOnce() async throws {
        try await SimulatorFixture.with { fixture in
            let provider = try fixture.provider()
            let message = outbound("+15555550003")
            do throws(ProviderError) {
                _ = try await provider.submit(message)
                Issue.record("the first submit of a 0003 destination was accepted")
            } catch {
                #expect(error.retryable)
                #expect(error.retryAfter != nil)
            }
            #expect(try await provider.count(organizationId: "org-a") == 0)
            let first = try await provider.submit(message)
            let again = try await provider.submit(message)
            #expect(first == again)
            // Another message to the same phone is throttled once too.
            await #expect(throws: ProviderError.self) { _ = try await provider.submit(outbound("+15555550003")) }
            #expect(try await provider.count(organizationId: "org-a") == 1)
        }
    }

    @Test("a resubmitted message id is acknowledged with the same id and recorded once")
    func idempotent() async throws {
        try await SimulatorFixture.with { fixture in
            let provider = try fixture.provider(latency: .milliseconds(5))
            #expect(provider.deduplicatesByMessageId)
            let message = outbound("+15555551234", id: "m-1")
            let first = try await provider.submit(message)
            let second = try await provider.submit(message)
            let batch = await provider.submitBatch([message, message, outbound("+15555554321", id: "m-2")])
            #expect(first == second)
            #expect(try batch[0].get() == first)
            #expect(try batch[1].get() == first)
            #expect(try batch[2].get() != first)
            #expect(try await provider.count(organizationId: "org-a") == 2)
            #expect(try await provider.countsByPhone(organizationId: "org-a") == ["+15555551234": 1, "+15555554321": 1])
            let receipts = try await runCollectingReceipts(provider, count: 3, timeout: .milliseconds(300))
            #expect(receipts.count == 2)
            #expect(receipts.filter { $0.providerMessageId == first.providerMessageId }.count == 1)
        }
    }

    @Test("submits beyond the per-second cap are throttled, retryably")
    func perSecondCap() async throws {
        try await SimulatorFixture.with { fixture in
            let provider = try fixture.provider(maxPerSecond: 5)
            let results = await provider.submitBatch((0..<8).map { outbound("+1555555\(String(format: "%04d", 100 + $0))") })
            let accepted = results.filter { if case .success = $0 { true } else { false } }
            #expect(accepted.count == 5)
            for result in results.suffix(3) {
                guard case .failure(let error) = result else { Issue.record("expected a throttle"); continue }
                #expect(error.retryable)
                #expect(error.code == "throttled")
                #expect((error.retryAfter ?? .zero) > .zero)
            }
            #expect(try await provider.count(organizationId: "org-a") == 5)
        }
    }

    @Test("receipts come after the latency, stamped with the delivery time")
    func latency() async throws {
        try await SimulatorFixture.with { fixture in
            let latency = Duration.milliseconds(60)
            let provider = try fixture.provider(latency: latency)
            let before = Date()
            let acceptance = try await provider.submit(outbound("+15555552222"))
            let clock = ContinuousClock()
            let start = clock.now
            let receipts = try await runCollectingReceipts(provider, count: 1)
            let elapsed = clock.now - start
            let receipt = try #require(receipts.first)
            #expect(receipt.providerMessageId == acceptance.providerMessageId)
            #expect(receipt.at.timeIntervalSince(before) >= 0.059)
            #expect(elapsed >= .milliseconds(40))
            // Only an upper bound loose enough for a loaded CI machine: this checks order, not speed.
            #expect(elapsed < .seconds(60))
        }
    }

    @Test("the record is committed before submit returns")
    func committedBeforeReturn() async throws {
        try await SimulatorFixture.with { fixture in
            let provider = try fixture.provider()
            let acceptance = try await provider.submit(outbound("+15555553333", id: "durable-1", body: "Durable"))
            let batch = await provider.submitBatch([outbound("+15555553334", id: "durable-2"), outbound("+15555553335", id: "durable-3")])
            #expect(batch.allSatisfy { if case .success = $0 { true } else { false } })
            let other = try SQLiteConnection(path: fixture.path, readOnly: true)
            defer { other.close() }
            let rows = try other.querySync("SELECT message_id, provider_message_id, body FROM simulator_messages ORDER BY seq")
            #expect(rows.map { $0.text(0) } == ["durable-1", "durable-2", "durable-3"])
            #expect(rows[0].text(1) == acceptance.providerMessageId)
            #expect(rows[0].text(2) == "Durable")
        }
    }

    @Test("receipts pending at shutdown are emitted after a restart, 0002 never")
    func restart() async throws {
        try await SimulatorFixture.with { fixture in
            // Long enough for the shutdown to come first even on a loaded machine.
            var first: SimulatorProvider? = try fixture.provider(latency: .seconds(20))
            let accepted = await first!.submitBatch([outbound("+15555554440", id: "r-0"), outbound("+15555550001", id: "r-1"),
                                                     outbound("+15555550002", id: "r-2")])
            let ids = try accepted.map { try $0.get().providerMessageId }
            // Graceful shutdown before the receipts are due.
            let group = ServiceGroup(services: [first!], logger: Logger(label: "test"))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                await group.triggerGracefulShutdown()
                tasks.addTask { try await group.run() }
                try await tasks.waitForAll()
            }
            var none = 0
            for await _ in first!.receipts { none += 1 }
            #expect(none == 0)
            await first!.record.close()
            first = nil

            let second = try fixture.provider(latency: .seconds(20))
            #expect(try await second.record.pendingReceiptCount() == 2)
            // Runs past the receipts' time and their confirmation (0002 never comes).
            let receipts = try await runCollectingReceipts(second, count: 3, timeout: .seconds(30))
            #expect(Set(receipts.map(\.providerMessageId)) == Set(ids.prefix(2)))
            #expect(receipts.first { $0.providerMessageId == ids[1] }?.outcome == .undelivered)
            // A resubmission after the restart is still acknowledged, not recorded again.
            let again = await second.submitBatch([outbound("+15555554440", id: "r-0")])
            #expect(try again[0].get().providerMessageId == ids[0])
            await second.record.close()

            let third = try fixture.provider()
            #expect(try await third.record.pendingReceiptCount() == 0)
            #expect(try await third.count(organizationId: "org-a") == 3)
            await third.record.close()
        }
    }

    @Test("messages are listed per organization and phone, with keyset paging")
    func queries() async throws {
        try await SimulatorFixture.with { fixture in
            let provider = try fixture.provider()
            var batch: [OutboundMessage] = []
            for i in 0..<5 { batch.append(outbound("+15555556000", body: "A\(i)")) }
            for i in 0..<3 { batch.append(outbound("+15555556001", organization: "org-b", body: "B\(i)")) }
            batch.append(outbound("+15555556002", body: "C"))
            _ = await provider.submitBatch(batch)
            let page1 = try await provider.messages(organizationId: "org-a", to: "+15555556000", limit: 3)
            #expect(page1.map(\.body) == ["A0", "A1", "A2"])
            let page2 = try await provider.messages(organizationId: "org-a", to: "+15555556000", limit: 3, after: page1.last?.sequence)
            #expect(page2.map(\.body) == ["A3", "A4"])
            #expect(try await provider.messages(organizationId: "org-a", to: "+15555556001").isEmpty)
            #expect(try await provider.messages(organizationId: "org-b").count == 3)
            #expect(try await provider.count(organizationId: "org-a") == 6)
            #expect(try await provider.countsByPhone(organizationId: "org-a") == ["+15555556000": 5, "+15555556002": 1])
            let message = try #require(page1.first)
            #expect(message.from == "+15550001111")
            #expect(message.encoding == .gsm7)
            #expect(message.segments == 1)
            #expect(message.mediaUrl == nil)
            #expect(abs(message.receivedAt.timeIntervalSinceNow) < 60)
        }
    }

    @Test("batches of 1,000 are recorded in full")
    func batches() async throws {
        try await SimulatorFixture.with { fixture in
            let provider = try fixture.provider()
            var accepted = 0
            for b in 0..<10 {
                let batch = (0..<1000).map { outbound("+1555\(String(format: "%07d", 1_000_000 + (b * 1000 + $0) * 10 + 5))") }
                for result in await provider.submitBatch(batch) { if case .success = result { accepted += 1 } }
            }
            #expect(accepted == 10_000)
            #expect(try await provider.count(organizationId: "org-a") == 10_000)
        }
    }
}
