import HTTPTypes
import Foundation
import HeraldCore
import HeraldStore
import Hummingbird

/// `/api/organization`, credits and `/api/api-keys` (API.md §2).
struct OrganizationRoutes {
    let storage: Storage

    func register(on api: RouterGroup<HeraldRequestContext>) {
        api.get("organization") { _, context in
            JSONResponse.make(Present.organization(try await storage.organizations.get(try context.scope())))
        }
        api.patch("organization") { request, context in
            try context.require(.admin)
            var fields = try await RequestFields.read(request, context: context)
            var s = OrganizationStore.Settings()
            var issues = IssueCollector()
            s.name = fields.string("name")
            s.timezone = fields.string("timezone")
            s.defaultCountry = fields.string("defaultCountry")?.uppercased()
            s.defaultSenderId = fields.update("defaultSenderId")
            let billing = fields.string("billingMode")
            let quiet = fields.objectValue("quietHours")
            s.optOutConfirmation = fields.string("optOutConfirmation")
            s.helpResponse = fields.string("helpResponse")
            if let n = s.name, !DisplayName.isValid(n) { issues.add("name", "must be \(DisplayName.rule)") }
            if let tz = s.timezone, TimeZone(identifier: tz) == nil { issues.add("timezone", "must be an IANA time zone such as America/New_York") }
            if let c = s.defaultCountry, !PhoneNumbersSupport.isRegion(c) { issues.add("defaultCountry", "must be an ISO 3166 country code such as US") }
            if let b = billing {
                if let mode = Organization.BillingMode(rawValue: b) { s.billingMode = mode } else { issues.add("billingMode", "must be credits or unlimited") }
            }
            if let quiet {
                for key in ["start", "end"] {
                    switch quiet[key] {
                    case .string(let v)?:
                        if SendWindowTime(parsing: v) != nil {
                            if key == "start" { s.quietHoursStart = v } else { s.quietHoursEnd = v }
                        } else { issues.add("quietHours.\(key)", "must be a time HH:mm") }
                    case nil: break
                    default: issues.add("quietHours.\(key)", "must be a time HH:mm")
                    }
                }
            }
            for (key, value) in [("optOutConfirmation", s.optOutConfirmation), ("helpResponse", s.helpResponse)] {
                if let v = value, v.isEmpty || v.count > 1600 { issues.add(key, "must be 1 to 1600 characters") }
            }
            let scope = try context.scope()
            if quiet != nil, !issues.issues.contains(where: { $0.field.hasPrefix("quietHours.") }) {
                // The window the organization ends up with must be able to open: start before end.
                let current = try await storage.organizations.get(scope)
                do {
                    _ = try SendWindow.parse(start: s.quietHoursStart ?? current.quietHoursStart, end: s.quietHoursEnd ?? current.quietHoursEnd)
                } catch let error as ValidationError {
                    issues.merge(error.issues)
                }
            }
            switch s.defaultSenderId {
            case .set(let senderId):
                if let sender = try? await storage.senders.get(scope, id: senderId) {
                    if sender.channel != .text { issues.add("defaultSenderId", "must be a text sender (the default of other channels is set on the sender, isDefault)") }
                } else {
                    issues.add("defaultSenderId", "no such sender in this organization")
                }
            case .clear:
                // Campaigns without a senderId send from the text channel's default: while the
                // organization has text senders, one of them is it.
                if try await storage.senders.defaultSender(scope, channel: .text) != nil {
                    issues.add("defaultSenderId", "cannot be cleared while the organization has text senders; choose another one")
                }
            case .unchanged: break
            }
            try fields.finish(issues)
            return JSONResponse.make(Present.organization(try await storage.organizations.update(scope, s)))
        }
        api.post("organization/credits") { request, context in
            try context.require(.admin)
            var fields = try await RequestFields.read(request, context: context)
            let amount = fields.integer("amount")
            let reason = fields.string("reason")
            var issues = IssueCollector()
            if amount == nil { issues.add("amount", "is required") } else if amount == 0 || abs(amount!) > 1_000_000_000 { issues.add("amount", "must be a non-zero whole number of at most 1,000,000,000 in size") }
            if reason == nil || reason!.trimmingCharacters(in: .whitespaces).isEmpty { issues.add("reason", "is required") } else if reason!.count > 500 { issues.add("reason", "must be at most 500 characters") }
            try fields.finish(issues)
            let scope = try context.scope()
            guard let balance = try await storage.organizations.addCredits(scope, amount: amount!, reason: reason!, floor: amount! < 0 ? 0 : nil) else {
                throw ValidationError(field: "amount", message: "would make the balance negative")
            }
            return JSONResponse.make(.object(["creditBalance": .int(balance)]))
        }
        api.get("organization/credits/ledger") { request, context in
            var q = QueryParameters(request)
            let limit = q.limit()
            let cursor = q.cursor()
            try q.throwIfIssues()
            let (entries, last) = Paging.split(try await storage.organizations.ledger(try context.scope(), before: cursor?.intKey, limit: limit + 1), limit: limit)
            return Paging.bareArray(entries.map(Present.ledger), last: last.map { KeysetCursor(sortValue: 0, id: $0.key) }, request: request)
        }
        api.post("api-keys") { request, context in
            try context.require(.admin)
            var fields = try await RequestFields.read(request, context: context)
            let name = fields.string("name")
            let role = fields.string("role")
            var issues = IssueCollector()
            if !(name.map(DisplayName.isValid) ?? false) { issues.add("name", "is required, \(DisplayName.rule)") }
            let parsedRole = role.flatMap(APIKeyRole.init(rawValue:))
            if parsedRole == nil { issues.add("role", "must be one of read, write, admin") }
            try fields.finish(issues)
            let (key, secret) = try await storage.organizations.createKey(try context.scope(), name: name!, role: parsedRole!)
            return JSONResponse.make(Present.apiKey(key, secret: secret), status: .created)
        }
        api.get("api-keys") { request, context in
            try context.require(.admin)
            var q = QueryParameters(request)
            let limit = q.limit()
            let cursor = q.cursor()
            try q.throwIfIssues()
            let (keys, last) = Paging.split(try await storage.organizations.listKeys(try context.scope(), before: cursor?.intKey, limit: limit + 1), limit: limit)
            return Paging.bareArray(keys.map { Present.apiKey($0) }, last: last.map { KeysetCursor(sortValue: 0, id: $0.key) }, request: request)
        }
        api.delete("api-keys/:id") { _, context in
            try context.require(.admin)
            try await storage.organizations.revokeKey(try context.scope(), id: try context.parameters.require("id"))
            return JSONResponse.noContent()
        }
    }

}

import PhoneNumbers

enum PhoneNumbersSupport {
    static func isRegion(_ code: String) -> Bool { PhoneNumberKit.shared.isValidRegion(code.uppercased()) }
}

/// Pagination helpers (API.md §1).
enum Paging {
    /// A page read with one row more than `limit` (pass `limit + 1` to the store): its first
    /// `limit` rows, and the last of them when the extra row shows that more follow, for the next
    /// cursor. An exactly full last page so has no next cursor (no empty page after it).
    static func split<T>(_ rows: [T], limit: Int) -> (page: [T], lastIfMore: T?) {
        guard rows.count > limit else { return (rows, nil) }
        let page = Array(rows.prefix(limit))
        return (page, page.last)
    }

    /// A bare JSON array with the next cursor in `X-Next-Cursor`.
    static func bareArray(_ items: [JSON], last: KeysetCursor?, request: Request) -> Response {
        var headers: HTTPFields = [:]
        if let last { headers[.nextCursor] = last.encoded(list: request.cursorList) }
        return JSONResponse.make(.array(items), headers: headers)
    }

    /// A page of contacts as `{data, nextCursor, total?}`: `query` read with one row more than
    /// its limit (`split`), the cursor after the last contact in the query's sort.
    static func contacts(_ storage: Storage, _ scope: OrganizationScope, _ query: ContactListQuery, request: Request) async throws -> Response {
        var probe = query
        probe.limit += 1
        let (rows, total) = try await storage.contacts.list(scope, probe)
        let (contacts, last) = split(rows, limit: query.limit)
        let next = last.map { KeysetCursor(sortValue: query.sort == .createdAt ? $0.createdAt : $0.updatedAt, id: $0.key) }
        return envelope(contacts.map { Present.contact($0) }, next: next, total: total, request: request)
    }

    /// `{data, nextCursor}` with an optional `total`.
    static func envelope(_ items: [JSON], next: KeysetCursor?, total: Int64?, request: Request) -> Response {
        var o: [String: JSON] = ["data": .array(items), "nextCursor": next.map { .string($0.encoded(list: request.cursorList)) } ?? .null]
        if let total { o["total"] = .int(total) }
        return JSONResponse.make(.object(o))
    }
}
