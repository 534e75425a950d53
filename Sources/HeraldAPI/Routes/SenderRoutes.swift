import HeraldCore
import HeraldStore
import Hummingbird

/// `/api/senders` (API.md §4).
struct SenderRoutes {
    let storage: Storage
    let providerNames: Set<String>

    /// Derives a sender's type from its channel and address.
    static func type(channel: Channel, address: String) -> SenderType {
        switch channel {
        case .whatsapp: return .whatsappNumber
        case .rcs: return .rcsAgent
        case .telegram: return .telegramBot
        case .email: return .emailAddress
        case .slack: return .slackWorkspace
        case .text:
            let digits = address.filter(\.isNumber)
            if address.hasPrefix("+") && digits.count == address.count - 1 {
                if digits.hasPrefix("1"), ["800", "833", "844", "855", "866", "877", "888"].contains(String(digits.dropFirst().prefix(3))) { return .tollFree }
                return .longCode
            }
            if digits.count == address.count && (3...8).contains(digits.count) { return .shortCode }
            return .alphanumeric
        }
    }

    /// Checks an address for its channel; returns the normalized address or adds an issue.
    static func validateAddress(_ address: String, channel: Channel, defaultCountry: String, into issues: inout IssueCollector) -> String? {
        let a = address.trimmingCharacters(in: .whitespaces)
        switch channel {
        case .text:
            if a.allSatisfy(\.isNumber) && (3...8).contains(a.count) { return a }
            if a.contains(where: \.isLetter) {
                guard a.count <= 11, a.allSatisfy({ ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == " " }) else {
                    issues.add("address", "an alphanumeric sender id must be 1 to 11 ASCII letters, digits or spaces")
                    return nil
                }
                return a
            }
            switch ContactInput.phone(a, defaultCountry: defaultCountry, field: "address") {
            case .success(let n): return n.e164
            case .failure(let issue): issues.add(issue.field, issue.message); return nil
            }
        case .whatsapp:
            switch ContactInput.phone(a, defaultCountry: defaultCountry, field: "address") {
            case .success(let n): return n.e164
            case .failure(let issue): issues.add(issue.field, issue.message); return nil
            }
        case .email:
            guard ContactFieldRules.isPlausibleEmail(a) else { issues.add("address", "must be an email address"); return nil }
            return a
        case .rcs, .telegram, .slack:
            guard !a.isEmpty, a.count <= 200 else { issues.add("address", "must be 1 to 200 characters"); return nil }
            return a
        }
    }

    func register(on api: RouterGroup<HeraldRequestContext>) {
        api.post("senders") { request, context in
            try context.require(.write)
            let scope = try context.scope()
            var fields = try await RequestFields.read(request, context: context)
            let channelText = fields.string("channel") ?? "text"
            let address = fields.string("address")
            let label = fields.string("label")
            let provider = fields.string("provider")
            let isDefault = fields.bool("isDefault") ?? false
            let mps = fields.number("maxPerSecond")
            var issues = IssueCollector()
            let channel = Channel(rawValue: channelText)
            if channel == nil { issues.add("channel", "must be one of \(Channel.allCases.map(\.rawValue).joined(separator: ", "))") }
            let org = try await storage.organizations.get(scope)
            var normalized: String?
            if let address, let channel { normalized = Self.validateAddress(address, channel: channel, defaultCountry: org.defaultCountry, into: &issues) } else if address == nil { issues.add("address", "is required") }
            if let label, label.count > 200 { issues.add("label", "must be at most 200 characters") }
            if provider == nil { issues.add("provider", "is required") } else if !providerNames.contains(provider!) {
                issues.add("provider", "names no configured provider (configured: \(providerNames.sorted().joined(separator: ", ")))")
            }
            if let mps, !(mps > 0 && mps <= 100_000) { issues.add("maxPerSecond", "must be greater than 0 and at most 100000") }
            try fields.finish(issues)
            let sender = try await storage.senders.create(scope, SenderStore.Input(
                channel: channel!, address: normalized!, type: Self.type(channel: channel!, address: normalized!), label: label,
                provider: provider!, isDefault: isDefault, maxPerSecond: mps ?? 10))
            return JSONResponse.make(Present.sender(sender), status: .created)
        }
        api.get("senders") { request, context in
            var q = QueryParameters(request)
            let limit = q.limit()
            let cursor = q.cursor()
            try q.throwIfIssues()
            let (senders, last) = Paging.split(try await storage.senders.all(try context.scope(), before: cursor?.intKey, limit: limit + 1), limit: limit)
            return Paging.bareArray(senders.map(Present.sender), last: last.map { KeysetCursor(sortValue: 0, id: $0.key) }, request: request)
        }
        api.get("senders/:id") { _, context in
            JSONResponse.make(Present.sender(try await storage.senders.get(try context.scope(), id: try context.parameters.require("id"))))
        }
        api.patch("senders/:id") { request, context in
            try context.require(.write)
            let scope = try context.scope()
            let id = try context.parameters.require("id")
            let current = try await storage.senders.get(scope, id: id)
            var fields = try await RequestFields.read(request, context: context)
            let address = fields.string("address")
            let label = fields.update("label")
            let provider = fields.string("provider")
            let isDefault = fields.bool("isDefault")
            let mps = fields.number("maxPerSecond")
            var issues = IssueCollector()
            var ch = SenderStore.Changes()
            if fields.has("channel"), fields.raw("channel") != .string(current.channel.rawValue) { issues.add("channel", "cannot be changed; create a new sender") }
            if let address {
                let org = try await storage.organizations.get(scope)
                if let n = Self.validateAddress(address, channel: current.channel, defaultCountry: org.defaultCountry, into: &issues) {
                    ch.address = n
                    ch.type = Self.type(channel: current.channel, address: n)
                }
            }
            if let l = label.valueOrNil, l.count > 200 { issues.add("label", "must be at most 200 characters") }
            ch.label = label
            if let provider, !providerNames.contains(provider) { issues.add("provider", "names no configured provider") }
            ch.provider = provider
            if let mps, !(mps > 0 && mps <= 100_000) { issues.add("maxPerSecond", "must be greater than 0 and at most 100000") }
            ch.maxPerSecond = mps
            ch.isDefault = isDefault
            try fields.finish(issues)
            return JSONResponse.make(Present.sender(try await storage.senders.update(scope, id: id, ch)))
        }
        api.delete("senders/:id") { _, context in
            try context.require(.write)
            try await storage.senders.delete(try context.scope(), id: try context.parameters.require("id"))
            return JSONResponse.noContent()
        }
    }
}
