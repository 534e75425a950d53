import Foundation

/// Deterministic pseudo-random numbers (SplitMix64), so every run benchmarks the same data.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    /// A Zipf-like skewed index in `0..<n`: index k has weight 1/(k+1).
    mutating func skewed(_ weights: [Double]) -> Int {
        let total = weights.last ?? 1
        let x = Double(next() >> 11) / Double(1 << 53) * total
        var lo = 0, hi = weights.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if weights[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}

/// Cumulative 1/(k+1) weights for `SplitMix64.skewed`.
func zipfCumulative(_ n: Int) -> [Double] {
    var out: [Double] = []
    var sum = 0.0
    for k in 0..<n {
        sum += 1.0 / Double(k + 1)
        out.append(sum)
    }
    return out
}

/// Peak resident set size of this process (VmHWM), in bytes.
func peakRSSBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let digits = line.filter(\.isNumber)
        return (Int(digits) ?? 0) * 1024
    }
    return 0
}

/// Monotonic seconds.
func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }

func fmt(_ x: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", x) }

/// Percentiles of a sample in milliseconds.
struct Stats {
    var p50: Double
    var p95: Double
    var max: Double

    init(_ samplesMillis: [Double]) {
        let s = samplesMillis.sorted()
        func q(_ p: Double) -> Double { s.isEmpty ? 0 : s[min(s.count - 1, Int((Double(s.count - 1) * p).rounded()))] }
        p50 = q(0.5)
        p95 = q(0.95)
        max = s.last ?? 0
    }
}

/// Runs this executable again with `arguments` and returns its standard output (the child's
/// standard error passes through). Each measured run gets its own process so peak RSS is its own.
func runSelf(_ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw BenchError("child \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
    }
    return String(decoding: data, as: UTF8.self)
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func removeDatabase(_ path: String) {
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
}
