import Foundation
import HeraldStore
import HeraldTestSupport
import Testing

@Suite("Database URLs and the startup reachability check", .timeLimit(.minutes(10)))
struct DatabaseLocationTests {
    @Test("SQLite URLs and bare paths", arguments: [
        ("sqlite://herald.db", "herald.db"), ("sqlite:///var/lib/herald.db", "/var/lib/herald.db"),
        ("sqlite:data/h.db", "data/h.db"), ("herald.db", "herald.db"), ("/tmp/x.db", "/tmp/x.db"),
    ])
    func sqlite(url: String, path: String) throws {
        #expect(try DatabaseLocation(url: url) == .sqlite(path: path))
    }

    @Test("PostgreSQL URLs", arguments: ["postgres://app:pw@db.example:5433/herald", "postgresql://app:pw@db.example:5433/herald"])
    func postgres(url: String) throws {
        guard case .postgres(let a) = try DatabaseLocation(url: url) else { Issue.record("not PostgreSQL"); return }
        #expect(a == .init(host: "db.example", port: 5433, username: "app", password: "pw", database: "herald"))
        #expect(try DatabaseLocation(url: url).description == "postgres://app@db.example:5433/herald")
    }

    @Test("refused URLs say why without the password", arguments: [
        ("mysql://x", "unsupported database URL scheme \"mysql\""),
        ("sqlite://", "needs a file path"),
        ("postgres://u:secretpw@/db", "needs a host"),
        ("postgres://u:secretpw@h:70000/db", "port must be from 1 to 65535"),
        ("postgres://u:secretpw@h/db?sslmode=require", "no query parameters"),
        ("postgres://u:secretpw@h/a/b", "invalid PostgreSQL database name"),
        ("postgres:u:secretpw@h/db", "starts with postgres://"),
        ("PostgreSQL:secretpw@db", "starts with postgresql://"),
    ])
    func refused(url: String, message: String) {
        #expect {
            _ = try DatabaseLocation(url: url)
        } throws: { error in
            let text = "\(error)"
            return text.contains(message) && !text.contains("secretpw")
        }
    }

    @Test("an unsupported scheme is not opened as an SQLite file")
    func openRefusesScheme() {
        #expect(throws: DatabaseLocation.InvalidURL.self) { _ = try Storage.open(url: "mysql://x") }
    }

    // The suites run in parallel on few cores: timeouts here are generous and assertions rest on
    // the reason reported, which tells a server's answer from the deadline.

    @Test("a closed port fails after the timeout, naming host:port and not the password")
    func unreachable() async throws {
        let db = try PostgresDatabase(url: "postgres://postgres:secretpw@127.0.0.1:1/nope")
        let start = ContinuousClock.now
        await #expect {
            try await db.checkReachable(timeout: .seconds(2))
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("cannot reach the database at 127.0.0.1:1: ")
                && (text.contains("connection refused") || text.contains("no answer within 2 s")) && !text.contains("secretpw")
        }
        #expect(ContinuousClock.now - start >= .seconds(1), "refused connections are retried until the timeout")
    }

    @Test("a missing PostgreSQL database fails at once with the server's reason",
          .enabled(if: TestEngine.postgresURL != nil, "needs HERALD_TEST_POSTGRES_URL"))
    func missingDatabase() async throws {
        let admin = try #require(TestEngine.postgresURL)
        var c = try #require(URLComponents(string: admin))
        c.path = "/herald_no_such_database"
        let url = try #require(c.string)
        let db = try PostgresDatabase(url: url)
        // Not retried until the deadline: the server's own reason, long before 60 s.
        await #expect {
            try await db.checkReachable(timeout: .seconds(60))
        } throws: { error in
            "\(error)" == #"cannot reach the database at 127.0.0.1:\#(c.port ?? 5432): database "herald_no_such_database" does not exist"#
        }
    }

    @Test("a running server passes", .enabled(if: TestEngine.postgresURL != nil, "needs HERALD_TEST_POSTGRES_URL"))
    func reachable() async throws {
        let url = try #require(TestEngine.postgresURL)
        let db = try PostgresDatabase(url: url)
        try await db.checkReachable(timeout: .seconds(60))
    }

    @Test("cancelling the check ends it long before its timeout")
    func cancelled() async throws {
        let db = try PostgresDatabase(url: "postgres://postgres@127.0.0.1:1/nope")
        let start = ContinuousClock.now
        let task = Task { try await db.checkReachable(timeout: .seconds(300)) }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        let result = await task.result
        #expect(throws: CancellationError.self) { try result.get() }
        #expect(ContinuousClock.now - start < .seconds(60))
    }
}
