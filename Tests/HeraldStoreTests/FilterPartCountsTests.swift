import Foundation
@testable import HeraldStore
import Synchronization
import Testing

@Suite("Recent filter part counts", .timeLimit(.minutes(10)))
struct FilterPartCountsTests {
    /// Counts how often the real count runs; the part "holds" `size` rows.
    final class Counter: Sendable {
        let calls = Mutex(0)
        let size: Int
        init(size: Int) { self.size = size }
        func measure(_ limit: Int) -> Int {
            calls.withLock { $0 += 1 }
            return min(size, limit)
        }
    }

    @Test("an exact count answers every limit; a count that stopped at its limit answers only smaller ones")
    func reuse() async throws {
        let counts = FilterPartCounts()
        let small = Counter(size: 40)
        #expect(try await counts.count(org: 1, part: .tags(["a"]), limit: 100) { small.measure($0) } == 40)
        #expect(try await counts.count(org: 1, part: .tags(["a"]), limit: 1000) { small.measure($0) } == 40)
        #expect(try await counts.count(org: 1, part: .tags(["a"]), limit: 10) { small.measure($0) } == 10)
        #expect(small.calls.withLock { $0 } == 1)

        let large = Counter(size: 5000)
        #expect(try await counts.count(org: 1, part: .states(["nc", "VA"]), limit: 100) { large.measure($0) } == 100)
        #expect(try await counts.count(org: 1, part: .states(["VA", "NC"]), limit: 50) { large.measure($0) } == 50)
        #expect(large.calls.withLock { $0 } == 1)
        #expect(try await counts.count(org: 1, part: .states(["NC", "VA"]), limit: 10_000) { large.measure($0) } == 5000)
        #expect(large.calls.withLock { $0 } == 2)
    }

    @Test("organizations and parts are counted apart")
    func separate() async throws {
        let counts = FilterPartCounts()
        let a = Counter(size: 7), b = Counter(size: 9), c = Counter(size: 11)
        #expect(try await counts.count(org: 1, part: .tags(["x"]), limit: 100) { a.measure($0) } == 7)
        #expect(try await counts.count(org: 2, part: .tags(["x"]), limit: 100) { b.measure($0) } == 9)
        #expect(try await counts.count(org: 1, part: .lists([UUID()]), limit: 100) { c.measure($0) } == 11)
        #expect([a, b, c].map { $0.calls.withLock { $0 } } == [1, 1, 1])
    }
}
