import HeraldCore
import HeraldStore
import Hummingbird

/// `/api/lists` (API.md §3).
struct ListRoutes {
    let storage: Storage

    func register(on api: RouterGroup<HeraldRequestContext>) {
        api.post("lists") { request, context in
            try context.require(.write)
            var fields = try await RequestFields.read(request, context: context)
            let name = fields.string("name")
            let description = fields.string("description")
            try fields.finish(Self.validate(name: name, required: true, description: description))
            let list = try await storage.lists.create(try context.scope(), name: name!.trimmingCharacters(in: .whitespaces), description: description)
            return JSONResponse.make(Present.list(list), status: .created)
        }
        api.get("lists") { request, context in
            var q = QueryParameters(request)
            let limit = q.limit()
            let cursor = q.cursor()
            try q.throwIfIssues()
            let (lists, last) = Paging.split(try await storage.lists.all(try context.scope(), before: cursor?.intKey, limit: limit + 1), limit: limit)
            return Paging.bareArray(lists.map(Present.list), last: last.map { KeysetCursor(sortValue: 0, id: $0.key) }, request: request)
        }
        api.get("lists/:id") { _, context in
            JSONResponse.make(Present.list(try await storage.lists.get(try context.scope(), id: try context.parameters.require("id"))))
        }
        api.patch("lists/:id") { request, context in
            try context.require(.write)
            let scope = try context.scope()
            let id = try context.parameters.require("id")
            _ = try await storage.lists.get(scope, id: id)
            var fields = try await RequestFields.read(request, context: context)
            let name = fields.string("name")
            let description = fields.update("description")
            try fields.finish(Self.validate(name: name, required: false, description: description.valueOrNil))
            return JSONResponse.make(Present.list(try await storage.lists.update(scope, id: id, name: name?.trimmingCharacters(in: .whitespaces), description: description)))
        }
        api.delete("lists/:id") { _, context in
            try context.require(.write)
            try await storage.lists.delete(try context.scope(), id: try context.parameters.require("id"))
            return JSONResponse.noContent()
        }
        api.post("lists/:id/contacts") { request, context in
            try context.require(.write)
            let scope = try context.scope()
            let id = try context.parameters.require("id")
            _ = try await storage.lists.get(scope, id: id)
            var fields = try await RequestFields.read(request, context: context)
            let ids = fields.strings("contactIds")
            let phones = fields.strings("phones")
            try fields.throwIfTypeIssues()
            guard (ids == nil) != (phones == nil) else {
                throw ValidationError([FieldIssue(field: "contactIds", message: "give exactly one of contactIds or phones"), FieldIssue(field: "phones", message: "give exactly one of contactIds or phones")])
            }
            let count = (ids ?? phones ?? []).count
            guard count >= 1 && count <= 10_000 else {
                throw ValidationError(field: ids != nil ? "contactIds" : "phones", message: "must hold 1 to 10,000 entries")
            }
            let org = try await storage.organizations.get(scope)
            var normalized: [String] = []
            var invalid: [String] = []
            for p in phones ?? [] {
                switch ContactInput.phone(p, defaultCountry: org.defaultCountry) {
                case .success(let n): normalized.append(n.e164)
                case .failure: invalid.append(p)
                }
            }
            let result = try await storage.lists.add(scope, id: id, contactIds: ids ?? [], phones: normalized, invalidInput: invalid)
            return JSONResponse.make(.object(["added": .int(result.added), "alreadyPresent": .int(result.alreadyPresent), "invalid": .strings(result.invalid)]))
        }
        api.delete("lists/:id/contacts") { request, context in
            try context.require(.write)
            let scope = try context.scope()
            let id = try context.parameters.require("id")
            _ = try await storage.lists.get(scope, id: id)
            var fields = try await RequestFields.read(request, context: context)
            let ids = fields.strings("contactIds")
            try fields.throwIfTypeIssues()
            guard let ids, !ids.isEmpty, ids.count <= 10_000 else { throw ValidationError(field: "contactIds", message: "must hold 1 to 10,000 contact ids") }
            let removed = try await storage.lists.remove(scope, id: id, contactIds: ids)
            return JSONResponse.make(.object(["removed": .int(removed)]))
        }
        api.get("lists/:id/contacts") { request, context in
            let scope = try context.scope()
            let id = try context.parameters.require("id")
            _ = try await storage.lists.get(scope, id: id)
            var q = QueryParameters(request)
            var query = ContactListQuery()
            query.limit = q.limit()
            if let c = q.cursor(), let k = c.intKey { query.after = .init(sortValue: c.sortValue, key: k) }
            query.includeTotal = q.bool("includeTotal") ?? false
            try q.throwIfIssues()
            var filter = ContactFilter()
            filter.listIds = [UUID(uuidString: id)!]
            query.apply(filter, dialect: storage.db.dialect)
            return try await Paging.contacts(storage, scope, query, request: request)
        }
    }

    static func validate(name: String?, required: Bool, description: String?) -> IssueCollector {
        var issues = IssueCollector()
        if let name {
            let t = name.trimmingCharacters(in: .whitespaces)
            if t.isEmpty || t.count > 200 { issues.add("name", "must be 1 to 200 characters") }
        } else if required {
            issues.add("name", "is required")
        }
        if let description, description.count > 2000 { issues.add("description", "must be at most 2000 characters") }
        return issues
    }
}

import Foundation

/// `/api/segments` (API.md §3).
struct SegmentRoutes {
    let storage: Storage

    /// Decodes a stored segment filter.
    static func decode(_ filterJSON: String) throws -> ContactFilter {
        let json = (try? JSONDecoder().decode(FilterJSON.self, from: Data(filterJSON.utf8))) ?? .object([:])
        return try ContactFilter(validating: json)
    }

    func register(on api: RouterGroup<HeraldRequestContext>) {
        api.post("segments") { request, context in
            try context.require(.write)
            var fields = try await RequestFields.read(request, context: context)
            let name = fields.string("name")
            var issues = IssueCollector()
            if name == nil || name!.trimmingCharacters(in: .whitespaces).isEmpty || name!.count > 200 { issues.add("name", "is required, 1 to 200 characters") }
            let filter = Self.filter(&fields, required: true, into: &issues)
            try fields.finish(issues)
            let scope = try context.scope()
            let segment = try await storage.segments.create(scope, name: name!.trimmingCharacters(in: .whitespaces), filterJSON: Self.encode(filter!))
            return JSONResponse.make(Present.segment(segment, contactCount: try await count(scope, filter!)), status: .created)
        }
        api.get("segments") { request, context in
            var q = QueryParameters(request)
            let limit = q.limit()
            let cursor = q.cursor()
            try q.throwIfIssues()
            let scope = try context.scope()
            let (segments, last) = Paging.split(try await storage.segments.all(scope, before: cursor?.intKey, limit: limit + 1), limit: limit)
            var items: [JSON] = []
            for s in segments { items.append(Present.segment(s, contactCount: try await count(scope, json: s.filterJSON))) }
            return Paging.bareArray(items, last: last.map { KeysetCursor(sortValue: 0, id: $0.key) }, request: request)
        }
        api.post("segments/preview") { request, context in
            var fields = try await RequestFields.read(request, context: context)
            var issues = IssueCollector()
            let filter = Self.filter(&fields, required: true, into: &issues)
            try fields.finish(issues)
            let scope = try context.scope()
            var query = ContactListQuery()
            query.apply(filter!, dialect: storage.db.dialect)
            query.limit = 5
            query.includeTotal = true
            let (sample, total) = try await storage.contacts.list(scope, query)
            return JSONResponse.make(.object(["contactCount": .int(total ?? 0), "sample": .array(sample.map { Present.contact($0) })]))
        }
        api.get("segments/:id") { _, context in
            let scope = try context.scope()
            let s = try await storage.segments.get(scope, id: try context.parameters.require("id"))
            return JSONResponse.make(Present.segment(s, contactCount: try await count(scope, json: s.filterJSON)))
        }
        api.patch("segments/:id") { request, context in
            try context.require(.write)
            let scope = try context.scope()
            let id = try context.parameters.require("id")
            _ = try await storage.segments.get(scope, id: id)
            var fields = try await RequestFields.read(request, context: context)
            let name = fields.string("name")
            var issues = IssueCollector()
            if let name, name.trimmingCharacters(in: .whitespaces).isEmpty || name.count > 200 { issues.add("name", "must be 1 to 200 characters") }
            let filter = Self.filter(&fields, required: false, into: &issues)
            try fields.finish(issues)
            let s = try await storage.segments.update(scope, id: id, name: name?.trimmingCharacters(in: .whitespaces), filterJSON: filter.map(Self.encode))
            return JSONResponse.make(Present.segment(s, contactCount: try await count(scope, json: s.filterJSON)))
        }
        api.delete("segments/:id") { _, context in
            try context.require(.write)
            let scope = try context.scope()
            let id = try context.parameters.require("id")
            try await storage.segments.delete(scope, id: id) { c, _ in try await CampaignStore.segmentInUse(c, scope, id) }
            return JSONResponse.noContent()
        }
        api.get("segments/:id/contacts") { request, context in
            let scope = try context.scope()
            let s = try await storage.segments.get(scope, id: try context.parameters.require("id"))
            var q = QueryParameters(request)
            var query = ContactListQuery()
            query.limit = q.limit()
            if let c = q.cursor(), let k = c.intKey { query.after = .init(sortValue: c.sortValue, key: k) }
            query.includeTotal = q.bool("includeTotal") ?? false
            try q.throwIfIssues()
            query.apply(try Self.decode(s.filterJSON), dialect: storage.db.dialect)
            return try await Paging.contacts(storage, scope, query, request: request)
        }
    }

    /// The request's `filter`: wrong JSON types inside it go to `fields` (400), broken rules to
    /// `issues` (422).
    static func filter(_ fields: inout RequestFields, required: Bool, into issues: inout IssueCollector) -> ContactFilter? {
        guard let raw = fields.raw("filter"), raw != .null else {
            if required { issues.add("filter", "is required (use {} for every contact)") }
            return nil
        }
        let checked = ContactFilter.check(raw, path: "filter")
        fields.addTypeIssues(checked.typeIssues)
        issues.merge(checked.ruleIssues)
        return checked.filter
    }

    static func encode(_ filter: ContactFilter) -> String {
        String(decoding: JSONResponse.bytes(filter.json), as: UTF8.self)
    }

    func count(_ scope: OrganizationScope, _ filter: ContactFilter) async throws -> Int64 {
        var query = ContactListQuery()
        query.apply(filter, dialect: storage.db.dialect)
        return try await storage.contacts.count(scope, query)
    }

    func count(_ scope: OrganizationScope, json: String) async throws -> Int64 {
        var query = ContactListQuery()
        query.apply(try Self.decode(json), dialect: storage.db.dialect)
        return try await storage.contacts.count(scope, query)
    }
}

