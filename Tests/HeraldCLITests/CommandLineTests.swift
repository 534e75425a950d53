import Foundation
import HeraldTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawn`. Foundation's `Process.run()` on Linux crashes
/// now and then (a SIGSEGV in a memmove while it lists `/proc/self/fd` to close inherited
/// descriptors; swift-corelibs-foundation #5472), which took this test run down with it.
final class SpawnedProcess: @unchecked Sendable {
    enum TerminationReason { case exit, uncaughtSignal }

    let processIdentifier: pid_t
    private let lock = NSLock()
    private var rawStatus: Int32?

    /// Starts `executable` with `arguments` in `directory`, stdout and stderr written to the two
    /// files, stdin from /dev/null, the environment exactly `environment`, default signal
    /// handling, and no descriptor of this process but 0–2.
    init(executable: String, arguments: [String], directory: String, environment: [String: String], stdout: String, stderr: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // glibc ≥ 2.34 has both; Swift's Glibc module does not declare them, so they are looked up.
        guard let chdir = Self.addChdir else { throw POSIXError(.ENOSYS) }
        _ = chdir(&actions, directory)
        _ = Self.addCloseFrom?(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        var all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EINVAL) }
        processIdentifier = pid
    }

    private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let addChdir: AddChdir? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np")
        .map { unsafeBitCast($0, to: AddChdir.self) }
    private static let addCloseFrom: AddCloseFrom? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: AddCloseFrom.self) }

    /// Reaps the child if it has ended (or waits for it with `block`); the status once known.
    private func reap(block: Bool) -> Int32? {
        lock.withLock {
            if let rawStatus { return rawStatus }
            var status: Int32 = 0
            if waitpid(processIdentifier, &status, block ? 0 : WNOHANG) == processIdentifier { rawStatus = status }
            return rawStatus
        }
    }

    var isRunning: Bool { reap(block: false) == nil }
    func waitUntilExit() { _ = reap(block: true) }
    /// The exit status, or the signal that ended the process (as Foundation's `Process` reports).
    var terminationStatus: Int32 {
        let status = reap(block: true) ?? 0
        return status & 0x7f == 0 ? (status >> 8) & 0xff : status & 0x7f
    }
    var terminationReason: TerminationReason { (reap(block: true) ?? 0) & 0x7f == 0 ? .exit : .uncaughtSignal }
}

/// Runs the built `herald` binary as a subprocess, in a fresh temporary directory and without
/// the caller's `HERALD_*` variables.
final class HeraldProcess: @unchecked Sendable {
    let process: SpawnedProcess
    let directory: URL
    private let stdoutURL: URL
    private let stderrURL: URL

    /// The `herald` executable next to the test bundle (`.build/<config>/herald`).
    static let executable: URL = {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("herald")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/herald")
    }()

    init(_ arguments: [String], environment: [String: String] = [:], directory: URL? = nil) throws {
        let dir = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("herald-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        self.directory = dir
        stdoutURL = dir.appendingPathComponent("stdout-\(UUID().uuidString)")
        stderrURL = dir.appendingPathComponent("stderr-\(UUID().uuidString)")
        try #require(FileManager.default.isExecutableFile(atPath: Self.executable.path), "no herald binary at \(Self.executable.path)")
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("HERALD_") }
        env.merge(environment) { $1 }
        process = try SpawnedProcess(executable: Self.executable.path, arguments: arguments, directory: dir.path, environment: env,
                                     stdout: stdoutURL.path, stderr: stderrURL.path)
    }

    var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }
    var output: String { stdout + stderr }

    /// Waits for the exit, killing the process after `timeout`; nil when it had to be killed.
    func wait(timeout: Duration = .seconds(30)) async throws -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                return nil
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return process.terminationStatus
    }

    /// Waits until the output contains `text` (or the process exits, or `timeout` passes).
    func waitForOutput(_ text: String, timeout: Duration = .seconds(60)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if output.contains(text) { return true }
            if !process.isRunning { return output.contains(text) }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    func removeDirectory() { try? FileManager.default.removeItem(at: directory) }

    /// Runs a command to completion.
    static func run(_ arguments: [String], environment: [String: String] = [:], directory: URL? = nil,
                    timeout: Duration = .seconds(30)) async throws -> (status: Int32?, stdout: String, stderr: String) {
        let p = try HeraldProcess(arguments, environment: environment, directory: directory)
        let status = try await p.wait(timeout: timeout)
        let result = (status, p.stdout, p.stderr)
        if directory == nil { p.removeDirectory() }
        return result
    }
}

/// A Bool set from another thread.
final class SignalRecord: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Bool?
    func set(_ value: Bool) { lock.withLock { stored = value } }
    var value: Bool? { lock.withLock { stored } }
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
func isListening(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}

@Suite("herald command line", .timeLimit(.minutes(10)))
struct CommandLineTests {
    struct BadStart: Sendable, CustomStringConvertible {
        var arguments: [String]
        var environment: [String: String] = [:]
        var file: String?
        var expected: [String]
        var description: String { "\(arguments) \(environment) \(file ?? "")" }
    }

    static let badStarts: [BadStart] = [
        BadStart(arguments: ["serve", "--port", "18143"], environment: ["HERALD_RATE_LIMIT": "0"], expected: ["HERALD_RATE_LIMIT", "whole number from 1"]),
        BadStart(arguments: ["serve", "--port", "18143"], environment: ["HERALD_RATE_LIMIT": "-5"], expected: ["HERALD_RATE_LIMIT"]),
        BadStart(arguments: ["serve", "--port", "18143"], file: #"{"rateLimit":{"perSecond":0,"burst":0}}"#,
                 expected: ["invalid configuration (2 problems)", "rateLimit.perSecond", "rateLimit.burst"]),
        BadStart(arguments: ["serve", "--port", "99999"], expected: ["--port", "1 to 65535", "99999"]),
        BadStart(arguments: ["serve", "--port", "18143"], file: #"{"prot":18109}"#, expected: [#""prot""#, "unknown key"]),
        BadStart(arguments: ["serve", "--port", "18143", "--database", "mysql://x"], expected: [#"unsupported database URL scheme "mysql""#]),
        BadStart(arguments: ["migrate", "--database", "mysql://x"], expected: [#"unsupported database URL scheme "mysql""#]),
    ]

    @Test("bad settings stop the start with a clear error, before anything listens", arguments: badStarts)
    func badStart(_ bad: BadStart) async throws {
        var arguments = bad.arguments
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("herald-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        if let file = bad.file {
            try Data(file.utf8).write(to: dir.appendingPathComponent("herald.json"))
            arguments += ["--config", "herald.json"]
        }
        let r = try await HeraldProcess.run(arguments, environment: bad.environment, directory: dir, timeout: .seconds(20))
        #expect(r.status == 1, "\(r)")
        for text in bad.expected { #expect(r.stderr.contains(text), "\(text) not in \(r.stderr)") }
        #expect(!r.stderr.contains("Herald listening") && !r.stdout.contains("Herald listening"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("herald.db").path), "nothing is opened")
    }

    @Test("an unreachable PostgreSQL stops serve and migrate within the startup timeout, without the password",
          arguments: [["serve", "--port", "18146"], ["migrate"]])
    func unreachableDatabase(_ arguments: [String]) async throws {
        let start = ContinuousClock.now
        let r = try await HeraldProcess.run(arguments + ["--database", "postgres://postgres:secretpw@127.0.0.1:1/nope"], timeout: .seconds(30))
        let elapsed = ContinuousClock.now - start
        #expect(r.status == 1, "\(r)")
        #expect(r.stderr.contains("cannot reach the database at 127.0.0.1:1: connection refused"), "\(r.stderr)")
        #expect(!(r.stdout + r.stderr).contains("secretpw"))
        #expect(!(r.stdout + r.stderr).contains("Herald listening"))
        // It retried for the startup timeout (10 s) and then exited by itself (the helper kills at 30 s).
        #expect(elapsed >= .seconds(9), "\(elapsed)")
    }

    @Test("SIGTERM and SIGINT stop serve promptly while it waits for the database", arguments: [SIGTERM, SIGINT])
    func signalDuringDatabaseWait(_ signal: Int32) async throws {
        let p = try HeraldProcess(["serve", "--port", "18147", "--database", "postgres://postgres@127.0.0.1:1/nope"])
        defer { p.removeDirectory() }
        // Sent from a Dispatch timer, 2 s into the 10 s wait, however busy the test's own threads.
        let stillWaiting = SignalRecord()
        DispatchQueue.global().asyncAfter(deadline: .now() + 2) {
            stillWaiting.set(p.process.isRunning)
            p.signal(signal)
        }
        let status = try await p.wait(timeout: .seconds(30))
        #expect(stillWaiting.value == true, "the process had ended before the signal")
        // Ended by the signal itself, not by the 10 s database timeout (exit status 1).
        #expect(p.process.terminationReason == .uncaughtSignal, "\(p.output)")
        #expect(status == signal)
        #expect(!p.output.contains("Herald listening"))
    }

    @Test("migrate against a PostgreSQL database that does not exist fails at once",
          .enabled(if: TestEngine.postgresURL != nil, "needs HERALD_TEST_POSTGRES_URL"))
    func missingPostgresDatabase() async throws {
        let admin = try #require(TestEngine.postgresURL)
        var c = try #require(URLComponents(string: admin))
        c.path = "/herald_cli_no_such_database"
        let url = try #require(c.string)
        let r = try await HeraldProcess.run(["migrate", "--database", url], timeout: .seconds(30))
        #expect(r.status == 1)
        // The server's reason, not the startup timeout's: it did not retry.
        #expect(r.stderr.contains(#"database "herald_cli_no_such_database" does not exist"#), "\(r.stderr)")
    }

    @Test("Herald listening is logged once the port is bound; a bind failure says so")
    func listening() async throws {
        let bad = try await HeraldProcess.run(["serve", "--host", "999.1.1.1", "--port", "18142"], timeout: .seconds(60))
        #expect(bad.status == 1, "\(bad)")
        #expect(bad.stderr.contains("cannot listen on 999.1.1.1:18142"), "\(bad.stderr)")
        #expect(!(bad.stdout + bad.stderr).contains("Herald listening"))

        let p = try HeraldProcess(["serve", "--port", "18141"])
        defer { p.removeDirectory() }
        let logged = try await p.waitForOutput("Herald listening")
        let bound = isListening(port: 18141)
        p.signal(SIGTERM)
        let status = try await p.wait(timeout: .seconds(40))
        #expect(logged, "\(p.output)")
        #expect(bound, "Herald listening was logged before the port was bound")
        #expect(p.output.contains("address=127.0.0.1:18141") || p.output.contains("127.0.0.1:18141"), "\(p.output)")
        #expect(status == 0)
    }

    @Test("key create refuses the names the API refuses", arguments: ["", "   ", String(repeating: "k", count: 201)])
    func keyName(_ name: String) async throws {
        let r = try await HeraldProcess.run(["key", "create", "--org", "org_x", "--role", "read", "--name", name])
        #expect(r.status != 0 && r.status != nil)
        #expect(r.stderr.contains("--name must be 1 to 200 characters"), "\(r.stderr)")
    }

    @Test("org create and key create need an existing SQLite database", arguments: [
        ["org", "create", "Acme"], ["key", "create", "--org", "org_x", "--role", "read"],
    ])
    func missingSQLiteFile(_ arguments: [String]) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("herald-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try await HeraldProcess.run(arguments + ["--database", "sqlite://hearld.db"], directory: dir)
        #expect(r.status == 1)
        #expect(r.stderr.contains("no Herald database at hearld.db; run `herald migrate --database sqlite://hearld.db` or `herald serve` first"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("hearld.db").path))
    }

    @Test("org create prints organizationId then apiKey; key create works on that organization")
    func orgCreate() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("herald-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let migrated = try await HeraldProcess.run(["migrate", "--database", "sqlite://h.db"], directory: dir)
        #expect(migrated.status == 0, "\(migrated)")
        let org = try await HeraldProcess.run(["org", "create", "Acme", "--database", "sqlite://h.db"], directory: dir)
        #expect(org.status == 0, "\(org)")
        let line = org.stdout.trimmingCharacters(in: .newlines)
        #expect(!line.contains("\n"))
        #expect(line.hasPrefix(#"{"organizationId":""#) && line.contains(#"","apiKey":""#), "\(line)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        let orgId = try #require(object["organizationId"])
        let key = try await HeraldProcess.run(["key", "create", "--org", orgId, "--role", "read", "--name", String(repeating: "k", count: 200),
                                               "--database", "sqlite://h.db"], directory: dir)
        #expect(key.status == 0, "\(key)")
        #expect(key.stdout.hasPrefix(#"{"apiKey":"hk_"#), "\(key.stdout)")
    }
}
