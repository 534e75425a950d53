import Testing

/// The pages of a keyset walk, at most 1,000: `for _ in PageWalk() { … break when done }`. A
/// cursor that stops moving would otherwise page for ever; running out is a recorded issue.
struct PageWalk: Sequence, IteratorProtocol {
    static let limit = 1_000
    private var page = 0
    private let sourceLocation: SourceLocation

    init(sourceLocation: SourceLocation = #_sourceLocation) { self.sourceLocation = sourceLocation }

    mutating func next() -> Int? {
        page += 1
        guard page <= Self.limit else {
            Issue.record("paging did not end after \(Self.limit) pages", sourceLocation: sourceLocation)
            return nil
        }
        return page
    }
}

@Suite("Page walk guard", .timeLimit(.minutes(10)))
struct PageWalkTests {
    @Test("a walk that never ends stops after the limit with a recorded issue")
    func endless() {
        var pages = 0
        withKnownIssue("the guard records running out") {
            for _ in PageWalk() { pages += 1 }
        }
        #expect(pages == PageWalk.limit)
    }

    @Test("a walk that ends records nothing")
    func ending() {
        var pages = 0
        for page in PageWalk() {
            pages += 1
            if page == 3 { break }
        }
        #expect(pages == 3)
    }
}
