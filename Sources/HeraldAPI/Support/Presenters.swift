import HeraldCore
import HeraldStore

/// The JSON shapes of API.md §2–4, one function per resource.
enum Present {
    static func organization(_ o: Organization) -> JSON {
        .object([
            "id": .string(o.id), "name": .string(o.name), "timezone": .string(o.timezone),
            "defaultCountry": .string(o.defaultCountry), "defaultSenderId": .opt(o.defaultSenderId),
            "creditBalance": .int(o.creditBalance), "billingMode": .string(o.billingMode.rawValue),
            "quietHours": .object(["start": .string(o.quietHoursStart), "end": .string(o.quietHoursEnd)]),
            "optOutConfirmation": .string(o.optOutConfirmation), "helpResponse": .string(o.helpResponse),
            "createdAt": .instant(o.createdAt),
        ])
    }

    static func apiKey(_ k: APIKey, secret: String? = nil) -> JSON {
        var o: [String: JSON] = [
            "id": .string(k.id), "name": .string(k.name), "role": .string(k.role.rawValue),
            "prefix": .string(k.prefix), "createdAt": .instant(k.createdAt),
        ]
        if let secret { o["key"] = .string(secret) }
        return .object(o)
    }

    static func ledger(_ e: CreditLedgerEntry) -> JSON {
        .object([
            "id": .string(e.id), "amount": .int(e.amount), "balanceAfter": .int(e.balanceAfter),
            "reason": .string(e.reason), "campaignId": .opt(e.campaignId), "createdAt": .instant(e.createdAt),
        ])
    }

    static func contact(_ c: Contact, outcome: ContactStore.Outcome? = nil) -> JSON {
        var o: [String: JSON] = [
            "id": .string(c.id), "phone": .string(c.phone), "firstName": .opt(c.firstName), "lastName": .opt(c.lastName),
            "email": .opt(c.email), "city": .opt(c.city), "state": .opt(c.state), "zip": .opt(c.zip), "timezone": .opt(c.timezone),
            "tags": .strings(c.tags), "customFields": .object(c.customFields.mapValues { .string($0) }),
            "isOptedIn": .bool(c.isOptedIn), "optedOutAt": .instant(c.optedOutAt), "isTextable": .bool(c.isTextable),
            "createdAt": .instant(c.createdAt), "updatedAt": .instant(c.updatedAt),
        ]
        if let outcome { o["outcome"] = .string(outcome.rawValue) }
        return .object(o)
    }

    static func list(_ l: ContactList) -> JSON {
        .object([
            "id": .string(l.id), "name": .string(l.name), "description": .opt(l.description),
            "contactCount": .int(l.contactCount), "createdAt": .instant(l.createdAt), "updatedAt": .instant(l.updatedAt),
        ])
    }

    static func segment(_ s: SegmentRecord, contactCount: Int64) -> JSON {
        let filter = (try? JSONResponse.decoder.decode(FilterJSON.self, from: Data(s.filterJSON.utf8))) ?? .object([:])
        return .object([
            "id": .string(s.id), "name": .string(s.name), "filter": filter, "contactCount": .int(contactCount),
            "createdAt": .instant(s.createdAt), "updatedAt": .instant(s.updatedAt),
        ])
    }

    static func sender(_ s: Sender) -> JSON {
        .object([
            "id": .string(s.id), "channel": .string(s.channel.rawValue), "address": .string(s.address), "type": .string(s.type.rawValue),
            "label": .opt(s.label), "provider": .string(s.provider), "isDefault": .bool(s.isDefault),
            "maxPerSecond": .number(s.maxPerSecond), "createdAt": .instant(s.createdAt),
        ])
    }

    static func importJob(_ j: ImportJob) -> JSON {
        .object([
            "id": .string(j.id), "status": .string(j.status.rawValue), "totalRows": .int(j.totalRows), "created": .int(j.created),
            "merged": .int(j.merged), "invalid": .int(j.invalid), "duplicateRows": .int(j.duplicateRows),
            "errors": .array(j.errors.map(importError)),
            "failureReason": .opt(j.failureReason), "startedAt": .instant(j.startedAt), "completedAt": .instant(j.completedAt),
        ])
    }

    /// One row error of an import: `{row, field, message}`.
    static func importError(_ e: ImportJob.RowError) -> JSON {
        .object(["row": .int(e.row), "field": .string(e.field), "message": .string(e.message)])
    }
}

import Foundation

extension JSONResponse {
    static let decoder = JSONDecoder()
}
