import Foundation
import HeraldCore
import HeraldEngine
import HeraldStore
import HTTPTypes
import Hummingbird

/// `/api/campaigns` (API.md §5.3, seed 000): compose, validate, estimate, schedule and launch.
/// Sending itself belongs to the engine; here a launched campaign reaches `scheduled` or `pending`.
struct CampaignRoutes {
    /// Merge values a test send may give (each at most a custom field's length).
    static let maxTestMergeFields = 50
    let storage: Storage
    /// The providers test sends go through (none: every test message fails `provider_unavailable`).
    var providers = ProviderRegistry(providers: [])
    var estimator: CampaignEstimator { CampaignEstimator(storage: storage) }

    func register(on api: RouterGroup<HeraldRequestContext>) {
        api.get("campaigns") { request, context in
            var q = QueryParameters(request)
            let limit = q.limit()
            let cursor = q.cursor()
            let status = q.oneOf("status", CampaignStatus.allCases.map(\.rawValue)).flatMap(CampaignStatus.init(rawValue:))
            let search = q.string("search")
            try q.throwIfIssues()
            let (items, last) = Paging.split(try await storage.campaigns.list(try context.scope(), status: status, search: search, before: cursor?.intKey, limit: limit + 1), limit: limit)
            return Paging.bareArray(items.map { CampaignPresenter.campaign($0) }, last: last.map { KeysetCursor(sortValue: 0, id: $0.key) }, request: request)
        }
        api.post("campaigns") { request, context in
            try context.require(.write)
            return try await launch(request, context: context)
        }
        api.post("campaigns/draft") { request, context in
            try context.require(.write)
            let scope = try context.scope()
            let org = try await storage.organizations.get(scope)
            let object = try await Self.readObject(request, context: context)
            var issues = IssueCollector()
            let fields = try Self.decode(object, into: &issues)
            fields.collectDraftIssues(into: &issues)
            let audience = try await resolveReferences(scope, org: org, fields: fields, issues: &issues, upsertRecipients: true)
            try RequestFields.finish(typeIssues: fields.typeIssues, issues)
            let campaign = try await storage.campaigns.create(scope, fields: fields, status: .draft, audience: audience.inlineKeys)
            return JSONResponse.make(try await present(scope, campaign), status: .created)
        }
        api.post("campaigns/estimate") { request, context in
            let scope = try context.scope()
            let org = try await storage.organizations.get(scope)
            var issues = IssueCollector()
            let fields = try Self.decode(try await Self.readObject(request, context: context), into: &issues)
            fields.collectDraftIssues(into: &issues)
            if fields.audienceSourceFields.isEmpty {
                for f in ["segmentId", "contactFilter", "listIds", "recipients"] { issues.add(f, "one audience source is required to estimate") }
            }
            let audience = try await resolveReferences(scope, org: org, fields: fields, issues: &issues, upsertRecipients: false)
            try RequestFields.finish(typeIssues: fields.typeIssues, issues)
            let estimate = try await estimator.estimate(scope, organization: org, fields: fields, audience: audience.estimateAudience, now: Date())
            return JSONResponse.make(CampaignPresenter.estimate(estimate))
        }
        api.get("campaigns/:id") { _, context in
            let scope = try context.scope()
            let campaign = try await storage.campaigns.get(scope, id: try context.parameters.require("id"))
            return JSONResponse.make(try await present(scope, campaign, detailed: true))
        }
        api.patch("campaigns/:id") { request, context in
            try context.require(.write)
            let scope = try context.scope()
            let id = try context.parameters.require("id")
            let current = try await storage.campaigns.get(scope, id: id)
            guard current.status == .draft else {
                throw APIError.invalidState("Only a draft can be edited; this campaign is \(current.status.rawValue).")
            }
            let org = try await storage.organizations.get(scope)
            let patch = try await Self.readObject(request, context: context)
            var issues = IssueCollector()
            let fields = try Self.decode(Self.merge(current.fields, patch), into: &issues)
            fields.collectDraftIssues(into: &issues)
            let audience = try await resolveReferences(scope, org: org, fields: fields, issues: &issues, upsertRecipients: true)
            try RequestFields.finish(typeIssues: fields.typeIssues, issues)
            let updated = try await storage.campaigns.updateDraft(scope, id: id, fields: fields, audience: audience.inlineKeys)
            return JSONResponse.make(try await present(scope, updated))
        }
        api.delete("campaigns/:id") { _, context in
            try context.require(.write)
            try await storage.campaigns.delete(try context.scope(), id: try context.parameters.require("id"))
            return JSONResponse.noContent()
        }
        for (path, action) in [("pause", CampaignAction.pause), ("resume", .resume), ("cancel", .cancel), ("unschedule", .unschedule)] {
            api.post("campaigns/:id/\(path)") { _, context in
                try context.require(.write)
                let scope = try context.scope()
                let campaign = try await storage.campaigns.apply(scope, id: try context.parameters.require("id"), action: action)
                return JSONResponse.make(try await present(scope, campaign))
            }
        }
        api.post("campaigns/:id/duplicate") { _, context in
            try context.require(.write)
            let scope = try context.scope()
            let source = try await storage.campaigns.get(scope, id: try context.parameters.require("id"))
            var fields = source.fields
            fields.name = String(("Copy of " + (source.fields.name ?? "campaign")).prefix(200))
            fields.scheduledFor = nil
            let audience = fields.audience == nil && source.fields.audienceSourceFields.isEmpty
                ? try await storage.campaigns.audienceContacts(scope, campaignKey: source.key) : nil
            let copy = try await storage.campaigns.create(scope, fields: fields, status: .draft, audience: audience)
            return JSONResponse.make(try await present(scope, copy), status: .created)
        }
        api.post("campaigns/:id/ab-test/winner") { request, context in
            try context.require(.write)
            let scope = try context.scope()
            let id = try context.parameters.require("id")
            _ = try await storage.campaigns.get(scope, id: id)
            var body = try await RequestFields.read(request, context: context)
            let variant = body.string("variant")
            try body.throwIfTypeIssues()
            guard let variant, ABTestWinnerChoice.variants.contains(variant) else {
                throw APIError.validation([FieldIssue(field: "variant", message: "must be one of A, B")])
            }
            let campaign = try await storage.campaigns.chooseWinner(scope, id: id, variant: variant)
            return JSONResponse.make(try await present(scope, campaign))
        }
        api.post("campaigns/:id/test") { request, context in
            try context.require(.write)
            return try await testSend(request, context: context)
        }
        api.get("campaigns/:id/estimate") { _, context in
            let scope = try context.scope()
            let campaign = try await storage.campaigns.get(scope, id: try context.parameters.require("id"))
            let org = try await storage.organizations.get(scope)
            var issues = IssueCollector()
            let audience = try await resolveStored(scope, campaign: campaign, org: org, issues: &issues)
            try issues.throwIfAny()
            let estimate = try await estimator.estimate(scope, organization: org, fields: campaign.fields, audience: audience, now: Date())
            return JSONResponse.make(CampaignPresenter.estimate(estimate))
        }
    }

    // MARK: test sends

    /// `POST /api/campaigns/{id}/test` (API.md §5.3): every failing field reported at once.
    func testSend(_ request: Request, context: HeraldRequestContext) async throws -> Response {
        let scope = try context.scope()
        let campaign = try await storage.campaigns.get(scope, id: try context.parameters.require("id"))
        let org = try await storage.organizations.get(scope)
        var body = try await RequestFields.read(request, context: context)
        let to = body.strings("to")
        let message = body.string("message")
        let mediaUrls = body.strings("mediaUrls")
        let senderId = body.string("senderId")
        let mergeObject = body.objectValue("mergeFields")

        var issues = IssueCollector()
        var phones: [String] = []
        if let to, !to.isEmpty {
            if to.count > CampaignTestSender.maxRecipients {
                issues.add("to", "at most \(CampaignTestSender.maxRecipients) phone numbers per test")
            }
            for (i, raw) in to.prefix(CampaignTestSender.maxRecipients).enumerated() {
                switch ContactInput.phone(raw, defaultCountry: org.defaultCountry, field: "to[\(i)]") {
                case .success(let number): if !phones.contains(number.e164) { phones.append(number.e164) }
                case .failure(let issue): issues.add(issue.field, issue.message)
                }
            }
        } else {
            issues.add("to", "at least one phone number is required")
        }
        if let message {
            if message.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { issues.add("message", "must not be empty") }
            if message.count > CampaignFields.maxMessageLength { issues.add("message", "must be at most \(CampaignFields.maxMessageLength) characters") }
        } else if (campaign.fields.message ?? campaign.fields.messageVariantA ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            issues.add("message", "the campaign has no message yet; give one to test")
        }
        if let mediaUrls {
            if mediaUrls.count > 1 { issues.add("mediaUrls", "at most one media URL is supported") }
            for (i, url) in mediaUrls.enumerated() where !CampaignFields.isAbsoluteHTTPSURL(url) {
                issues.add("mediaUrls[\(i)]", "must be an absolute https URL")
            }
        }
        var mergeFields: [String: String] = [:]
        if (mergeObject?.count ?? 0) > Self.maxTestMergeFields { issues.add("mergeFields", "must have at most \(Self.maxTestMergeFields) fields") }
        for (key, value) in (mergeObject ?? [:]).sorted(by: { $0.key < $1.key }).prefix(Self.maxTestMergeFields) {
            if case .string(let text) = value {
                if text.count > ContactFieldRules.maxCustomFieldValueLength {
                    issues.add("mergeFields.\(key)", "must be at most \(ContactFieldRules.maxCustomFieldValueLength) characters")
                } else {
                    mergeFields[key] = text
                }
            } else {
                issues.add("mergeFields.\(key)", "must be a string")
            }
        }
        var sender: Sender?
        if let id = senderId ?? campaign.fields.senderId {
            sender = try? await storage.senders.get(scope, id: id)
            if sender == nil { issues.add("senderId", "no such sender in this organization") }
        } else {
            sender = try await storage.senders.defaultSender(scope, channel: campaign.fields.resolvedChannel)
            if sender == nil { issues.add("senderId", "the organization has no default \(campaign.fields.resolvedChannel.rawValue) sender; give one") }
        }
        try body.finish(issues)
        guard let sender else { throw APIError.validation(issues.issues) }

        let results: [CampaignTestSender.Result]
        do {
            results = try await CampaignTestSender(storage: storage, providers: providers).send(
                scope, organization: org, campaign: campaign, sender: sender,
                request: .init(to: phones, message: message, mediaUrl: mediaUrls?.first, mergeFields: mergeFields))
        } catch let e as CampaignTestSender.InsufficientCredits {
            throw APIError(.unprocessableContent, "insufficient_credits", "These test messages need \(e.needed) credits; the balance is \(e.balance).",
                           details: [FieldIssue(field: "credits", message: "needs \(e.needed), balance \(e.balance)")])
        }
        return JSONResponse.make(.object(["results": .array(results.map { r in
            .object([
                "to": .string(r.to),
                "status": .string(r.sent ? "sent" : "failed"),
                "messageId": .string(r.messageId),
                "body": .string(r.body),
                "encoding": .string(r.encoding.rawValue),
                "segments": .int(r.segments),
                "error": .opt(r.error),
            ])
        })]))
    }

    // MARK: launch

    func launch(_ request: Request, context: HeraldRequestContext) async throws -> Response {
        let scope = try context.scope()
        let org = try await storage.organizations.get(scope)
        var object = try await Self.readObject(request, context: context)
        var draft: CampaignRecord?
        var issues = IssueCollector()
        if case .string(let draftId)? = object["draftId"] {
            if let found = try? await storage.campaigns.get(scope, id: draftId) {
                guard found.status == .draft else {
                    throw APIError.invalidState("draftId names a campaign that is \(found.status.rawValue), not a draft.")
                }
                object = Self.merge(found.fields, object)
                draft = found
            } else {
                // Reported with every other failing field of the body.
                issues.add("draftId", "no such draft in this organization")
            }
        }
        let fields = try Self.decode(object, into: &issues)
        let known = try await storage.contacts.customFieldNames(scope)
        fields.collectDraftIssues(into: &issues)
        fields.collectLaunchIssues(into: &issues, knownCustomFields: known.union(fields.recipients?.flatMap { $0.customFields?.keys.map { $0 } ?? [] } ?? []))
        var audience = try await resolveReferences(scope, org: org, fields: fields, issues: &issues, upsertRecipients: false)
        if fields.senderId == nil, try await storage.senders.defaultSender(scope, channel: fields.resolvedChannel) == nil {
            // Refused now rather than accepted and failed when it starts sending.
            issues.add("senderId", "the organization has no default \(fields.resolvedChannel.rawValue) sender; give one")
        }
        if fields.audienceSourceFields.isEmpty, let draft, audience.inlineKeys == nil {
            // A draft whose recipients were given inline keeps them.
            let keys = try await storage.campaigns.audienceContacts(scope, campaignKey: draft.key)
            if !keys.isEmpty {
                issues = IssueCollector(issues.issues.filter { !["segmentId", "contactFilter", "listIds", "recipients"].contains($0.field) })
                audience = ResolvedCampaignAudience(stored: .contacts(keys), inlineKeys: keys)
            }
        }
        try RequestFields.finish(typeIssues: fields.typeIssues, issues)
        let now = Date()
        // Inline recipients become contacts only once the launch is accepted: the duplicate-send
        // and credit checks below work on them as given (and on the contacts that already hold
        // their phones), so a refused launch changes nothing.
        let estimate = try await estimator.estimate(scope, organization: org, fields: fields, audience: audience.estimateAudience, now: now)
        if fields.acknowledgeDuplicateSend != true, let stored = audience.stored ?? audience.existingKeys.map({ .contacts($0) }) {
            let zone = TimeZone(identifier: org.timezone) ?? TimeZone(identifier: "UTC")!
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            // The local day the campaign sends on: today, or the day it is scheduled for.
            let sendsAt = max(now, fields.scheduledFor ?? now)
            let day = calendar.dateInterval(of: .day, for: sendsAt) ?? DateInterval(start: calendar.startOfDay(for: sendsAt), duration: 86_400)
            let overlap = try await storage.campaigns.recentOverlap(scope, stored, from: Int64(day.start.timeIntervalSince1970 * 1000),
                                                                    until: Int64(day.end.timeIntervalSince1970 * 1000), excluding: draft?.key)
            if overlap.count > 0 {
                var details = [FieldIssue(field: "audience", message: "\(overlap.count) recipients already got a message on the campaign's sending day from another campaign")]
                details += overlap.campaigns.map { FieldIssue(field: "campaigns", message: "\($0.id)\($0.name.map { " (\($0))" } ?? "")") }
                throw APIError(.conflict, "duplicate_send",
                               "\(overlap.count) recipients already got a message from another campaign on the day this one sends (organization time). Send acknowledgeDuplicateSend: true to send anyway.",
                               details: details)
            }
        }
        if org.billingMode == .credits && estimate.credits > org.creditBalance {
            throw APIError(.unprocessableContent, "insufficient_credits",
                           "This campaign needs \(estimate.credits) credits; the balance is \(org.creditBalance).",
                           details: [FieldIssue(field: "credits", message: "needs \(estimate.credits), balance \(org.creditBalance)")])
        }
        if fields.recipients != nil {
            var again = IssueCollector()
            audience = try await resolveReferences(scope, org: org, fields: fields, issues: &again, upsertRecipients: true)
            try again.throwIfAny()
        }
        let status = CampaignSchedule.launchStatus(scheduledFor: fields.scheduledFor, now: now)
        var stored = fields
        if status == .pending { stored.scheduledFor = nil }
        let campaign: CampaignRecord
        if let draft {
            campaign = try await storage.campaigns.launchDraft(scope, id: draft.id, fields: stored, status: status, audience: audience.inlineKeys)
        } else {
            campaign = try await storage.campaigns.create(scope, fields: stored, status: status, audience: audience.inlineKeys)
        }
        return JSONResponse.make(try await present(scope, campaign), status: .created)
    }

    // MARK: references and audiences

    struct ResolvedCampaignAudience {
        var stored: ResolvedAudience?
        var inline: EstimateAudience?
        var inlineKeys: [Int64]?
        /// Inline recipients not yet written as contacts: the contacts that already hold their
        /// phones (for the duplicate-send check).
        var existingKeys: [Int64]?

        init(stored: ResolvedAudience? = nil, inline: EstimateAudience? = nil, inlineKeys: [Int64]? = nil, existingKeys: [Int64]? = nil) {
            self.stored = stored
            self.inline = inline
            self.inlineKeys = inlineKeys
            self.existingKeys = existingKeys
        }

        var estimateAudience: EstimateAudience {
            if let inline { return inline }
            return .stored(stored ?? .contacts([]))
        }
    }

    /// Checks every id the fields refer to (segment, lists, sender) and resolves the audience.
    /// Inline recipients are normalized; with `upsertRecipients` they become contacts.
    func resolveReferences(_ scope: OrganizationScope, org: Organization, fields: CampaignFields, issues: inout IssueCollector, upsertRecipients: Bool) async throws -> ResolvedCampaignAudience {
        if let senderId = fields.senderId {
            if (try? await storage.senders.get(scope, id: senderId)) == nil { issues.add("senderId", "no such sender in this organization") }
        }
        guard fields.audienceSourceFields.count == 1 else { return ResolvedCampaignAudience() }
        switch fields.audience {
        case .segment(let id)?:
            guard let segment = try? await storage.segments.get(scope, id: id) else {
                issues.add("segmentId", "no such segment in this organization")
                return ResolvedCampaignAudience()
            }
            let json = (try? JSONDecoder().decode(FilterJSON.self, from: Data(segment.filterJSON.utf8))) ?? .object([:])
            guard let filter = try? ContactFilter(validating: json) else { return ResolvedCampaignAudience() }
            return ResolvedCampaignAudience(stored: .filter(filter))
        case .filter(let raw)?:
            guard let filter = try? ContactFilter(validating: raw, path: "contactFilter") else { return ResolvedCampaignAudience() }
            if !filter.listIds.isEmpty {
                let missing = try await storage.lists.keys(scope, ids: filter.listIds.map { $0.uuidString.lowercased() }).missing
                for m in missing { issues.add("contactFilter.listIds", "no such list: \(m)") }
            }
            return ResolvedCampaignAudience(stored: .filter(filter))
        case .lists(let ids)?:
            if ids.isEmpty { issues.add("listIds", "must name at least one list") }
            var uuids: [UUID] = []
            for (i, id) in ids.enumerated() {
                guard let u = UUID(uuidString: id), (try? await storage.lists.get(scope, id: id)) != nil else {
                    issues.add("listIds[\(i)]", "no such list in this organization")
                    continue
                }
                uuids.append(u)
            }
            var filter = ContactFilter()
            filter.listIds = uuids
            return ResolvedCampaignAudience(stored: .filter(filter))
        case .recipients(let list)?:
            if list.isEmpty { issues.add("recipients", "must hold at least one recipient") }
            if list.count > CampaignFields.maxInlineRecipients { return ResolvedCampaignAudience() }
            var seen = Set<String>()
            var unique: [InlineRecipient] = []
            var changes: [ContactChanges] = []
            var duplicates: Int64 = 0
            var notTextable: Int64 = 0
            var optedOut: Int64 = 0
            var existingKeys: [Int64] = []
            for (i, r) in list.enumerated() {
                // A missing phone is reported by the draft rules (unless ignored), never twice.
                guard let raw = r.phone, !raw.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { continue }
                switch ContactInput.phone(raw, defaultCountry: org.defaultCountry, field: "recipients[\(i)].phone") {
                case .failure(let issue):
                    if fields.ignoreInvalidPhoneNumbers != true { issues.add(issue.field, "\(issue.message) (\(raw))") }
                case .success(let number):
                    guard seen.insert(number.e164).inserted else { duplicates += 1; continue }
                    var normalized = r
                    normalized.phone = number.e164
                    if !number.isTextable { notTextable += 1 }
                    // The same field rules as POST /api/contacts (`ContactInput`), every issue
                    // reported under recipients[i]; the phone was read above.
                    var object = (try? JSONDecoder().decode([String: FilterJSON].self, from: JSONEncoder().encode(r))) ?? [:]
                    object["phone"] = nil
                    var recipientFields = RequestFields(object: object)
                    var recipientIssues = IssueCollector()
                    var ch = ContactInput.collect(&recipientFields, defaultCountry: org.defaultCountry, requirePhone: false, into: &recipientIssues)
                    issues.merge(recipientFields.typeIssues + recipientIssues.issues, prefix: "recipients[\(i)]")
                    ch.phone = number.e164
                    ch.isTextable = number.isTextable
                    var eligible = number.isTextable
                    if let existing = try await storage.contacts.find(scope, phone: number.e164) {
                        if !existing.isOptedIn {
                            if number.isTextable { optedOut += 1 }
                            eligible = false
                        } else if eligible {
                            existingKeys.append(existing.key)
                        }
                    }
                    if eligible { unique.append(normalized) }
                    changes.append(ch)
                }
            }
            guard issues.isEmpty else { return ResolvedCampaignAudience() }
            if upsertRecipients {
                var keys: [Int64] = []
                for ch in changes { keys.append(try await storage.contacts.upsert(scope, ch).0.key) }
                return ResolvedCampaignAudience(stored: .contacts(keys), inlineKeys: keys)
            }
            return ResolvedCampaignAudience(inline: .inline(unique, optedOut: optedOut, notTextable: notTextable, duplicates: duplicates), existingKeys: existingKeys)
        case nil:
            return ResolvedCampaignAudience()
        }
    }

    /// The audience of a stored campaign, for its estimate.
    func resolveStored(_ scope: OrganizationScope, campaign: CampaignRecord, org: Organization, issues: inout IssueCollector) async throws -> EstimateAudience {
        if campaign.fields.audienceSourceFields.isEmpty {
            return .stored(.inline(campaignKey: campaign.key))
        }
        let resolved = try await resolveReferences(scope, org: org, fields: campaign.fields, issues: &issues, upsertRecipients: false)
        return resolved.estimateAudience
    }

    // MARK: request decoding

    static func readObject(_ request: Request, context: HeraldRequestContext) async throws -> [String: FilterJSON] {
        try await RequestFields.read(request, context: context).object
    }

    /// The stored fields overlaid with the keys of a request (PATCH and `draftId`).
    static func merge(_ fields: CampaignFields, _ patch: [String: FilterJSON]) -> [String: FilterJSON] {
        let data = (try? CampaignPresenter.requestEncoder.encode(fields)) ?? Data("{}".utf8)
        guard case .object(var base)? = try? JSONDecoder().decode(FilterJSON.self, from: data) else { return patch }
        if patch["phoneNumberId"] != nil { base["senderId"] = nil }
        for (k, v) in patch { base[k] = v }
        return base
    }

    /// Decodes campaign fields; a wrong type is 400 naming the field, a time without an
    /// offset is 422 on `scheduledFor` (API.md §1).
    /// Decodes the campaign fields; a `scheduledFor` string that is no RFC 3339 time with an
    /// offset is an issue in `issues` (a 422 with the body's other issues), decoded as absent.
    static func decode(_ object: [String: FilterJSON], into issues: inout IssueCollector) throws -> CampaignFields {
        var object = object
        if case .string(let s)? = object["scheduledFor"], Instant.parse(s) == nil {
            issues.add("scheduledFor", "must be an RFC 3339 time with an offset, such as 2026-04-20T13:00:00Z")
            object["scheduledFor"] = nil
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { d in
            // Only RFC 3339 strings: a JSON number has no unit a client could rely on (seconds or
            // milliseconds) and may not fit a time at all, so it is the wrong type (400).
            let c = try d.singleValueContainer()
            let s = try c.decode(String.self)
            guard let ms = Instant.parse(s) else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an RFC 3339 time with offset") }
            return Date(timeIntervalSince1970: Double(ms) / 1000)
        }
        do {
            return try decoder.decode(CampaignFields.self, from: Data(JSONResponse.bytes(.object(object))))
        } catch let error as DecodingError {
            var path: [any CodingKey] = []
            switch error {
            case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx), .dataCorrupted(let ctx): path = ctx.codingPath
            case .keyNotFound(let key, let ctx): path = ctx.codingPath + [key]
            @unknown default: break
            }
            let field = path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
                .replacingOccurrences(of: ".[", with: "[")
            throw APIError.invalidRequest("Some fields have the wrong type.", details: [FieldIssue(field: field.isEmpty ? "body" : field, message: "has the wrong type")])
        }
    }

    func present(_ scope: OrganizationScope, _ campaign: CampaignRecord, detailed: Bool = false) async throws -> JSON {
        var sender: Sender?
        if detailed {
            if let id = campaign.fields.senderId { sender = try? await storage.senders.get(scope, id: id) }
            else { sender = try await storage.senders.defaultSender(scope, channel: campaign.fields.resolvedChannel) }
        }
        let variants = detailed && campaign.fields.isABTest
            ? try await storage.campaigns.variantCounters(scope, campaignKey: campaign.key, winner: campaign.abTestWinner) : nil
        return CampaignPresenter.campaign(campaign, detailed: detailed, sender: sender, variants: variants)
    }
}

extension IssueCollector {
    init(_ issues: [FieldIssue]) {
        self.init()
        for i in issues { add(i.field, i.message) }
    }
}
