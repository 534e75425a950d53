import Foundation
import HeraldCore
@testable import HeraldProviders
import HeraldStore
import Testing

/// Several processes (`herald serve --role worker`) share one simulator record: each opens its
/// own connection to the file. Two providers on one file stand for two processes here.
@Suite("Simulator record shared by several processes", .timeLimit(.minutes(10)))
struct SharedSimulatorRecordTests {
    @Test("concurrent submits from two openers are all recorded, each message once")
    func concurrentSubmits() async throws {
        try await SimulatorFixture.with { fixture in
            let first = try fixture.provider()
            let second = try fixture.provider()
            func batches(_ prefix: String) -> [[OutboundMessage]] {
                (0..<10).map { b in
                    (0..<500).map { i in outbound("+1555\(String(format: "%07d", 1_000_000 + (b * 500 + i) * 10 + 5))", id: "\(prefix)-\(b)-\(i)") }
                }
            }
            // Results by opener: the task group hands them back in completion order.
            let results = await withTaskGroup(of: (String, [Result<SubmitAcceptance, ProviderError>]).self) { group in
                for (provider, prefix) in [(first, "a"), (second, "b")] {
                    group.addTask {
                        var all: [Result<SubmitAcceptance, ProviderError>] = []
                        for batch in batches(prefix) { all += await provider.submitBatch(batch) }
                        return (prefix, all)
                    }
                }
                var byPrefix: [String: [Result<SubmitAcceptance, ProviderError>]] = [:]
                for await (prefix, part) in group { byPrefix[prefix] = part }
                return byPrefix
            }
            let idsA = try (results["a"] ?? []).map { try $0.get().providerMessageId }
            let ids = try idsA + (results["b"] ?? []).map { try $0.get().providerMessageId }
            #expect(ids.count == 10_000)
            #expect(Set(ids).count == 10_000)
            #expect(try await first.count(organizationId: "org-a") == 10_000)
            // The same message id through the other opener is acknowledged, not recorded again.
            let again = await second.submitBatch([outbound("+15551000005", id: "a-0-0")])
            #expect(try again[0].get().providerMessageId == idsA.first)
            #expect(try await second.count(organizationId: "org-a") == 10_000)
            await first.record.close()
            await second.record.close()
        }
    }

    @Test("each receipt is emitted by one of the processes sharing the record")
    func receiptsOnceOverall() async throws {
        try await SimulatorFixture.with { fixture in
            let first = try fixture.provider(latency: .milliseconds(5))
            let second = try fixture.provider(latency: .milliseconds(5))
            var expected: Set<String> = []
            for b in 0..<4 {
                let provider = b % 2 == 0 ? first : second
                let batch = (0..<250).map { i in outbound("+1555\(String(format: "%07d", 2_000_000 + (b * 250 + i) * 10 + 7))") }
                for result in await provider.submitBatch(batch) { expected.insert(try result.get().providerMessageId) }
            }
            // Both emit until every receipt has come out of one or the other, and a while longer
            // (a repeat would show up as an extra).
            async let fromFirst = runCollectingReceipts(first, count: 1_001, timeout: .seconds(8))
            async let fromSecond = runCollectingReceipts(second, count: 1_001, timeout: .seconds(8))
            let all = try await fromFirst + fromSecond
            #expect(all.count == 1_000)
            #expect(Set(all.map(\.providerMessageId)) == expected)
            #expect(try await first.record.pendingReceiptCount() == 0)
            await first.record.close()
            await second.record.close()
        }
    }

    @Test("receipts claimed by a process that died unconfirmed are claimed again after the lease")
    func deadClaimer() async throws {
        try await SimulatorFixture.with { fixture in
            let dying = try SimulatorRecord(path: fixture.path)
            let message = outbound("+15555557777", id: "lease-1")
            let recorded = try await dying.record([.init(message: message, outcome: .delivered, throttleOnce: false)],
                                                  receivedAt: 1_000, latencyMilliseconds: 10)
            guard case .accepted(let providerMessageId) = recorded[0] else { Issue.record("not accepted"); return }
            // Claimed under a 500 ms lease, then the process is gone without confirming.
            let claimed = try await dying.claimDueReceipts(now: 2_000, limit: 10, leaseMilliseconds: 500)
            #expect(claimed.due.map(\.providerMessageId) == [providerMessageId])
            #expect(claimed.due.first?.dueAtMilliseconds == 1_010)
            await dying.close()

            let survivor = try SimulatorRecord(path: fixture.path)
            let during = try await survivor.claimDueReceipts(now: 2_400, limit: 10, leaseMilliseconds: 500)
            #expect(during.due.isEmpty)
            #expect(during.nextDueAt == 2_500)
            let after = try await survivor.claimDueReceipts(now: 2_500, limit: 10, leaseMilliseconds: 500)
            #expect(after.due.map(\.providerMessageId) == [providerMessageId])
            // Stamped with its own time, not the claim's.
            #expect(after.due.first?.dueAtMilliseconds == 1_010)
            try await survivor.confirmReceipts(after.due.map(\.sequence))
            #expect(try await survivor.pendingReceiptCount() == 0)
            #expect(try await survivor.message(messageId: "lease-1")?.status == .delivered)
            #expect(try await survivor.claimDueReceipts(now: 10_000, limit: 10, leaseMilliseconds: 500).due.isEmpty)
            await survivor.close()
        }
    }
}
