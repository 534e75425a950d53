import HTTPTypes
import Foundation
import HeraldCore
import HeraldEngine
import HeraldStore
import Hummingbird
import NIOCore

/// `/api/contacts`, imports, export and `/api/tags` (API.md §3).
struct ContactRoutes {
    let storage: Storage
    let imports: ImportService
    let uploads: UploadReceiver

    /// Registers the routes on `api`, and the CSV import on `uploads`: a group whose
    /// idempotency middleware receives the upload (`IdempotencyMiddleware.uploads`).
    func register(on api: RouterGroup<HeraldRequestContext>, uploads uploadRoutes: RouterGroup<HeraldRequestContext>) {
        api.post("contacts") { request, context in
            try context.require(.write)
            let scope = try context.scope()
            let org = try await storage.organizations.get(scope)
            var fields = try await RequestFields.read(request, context: context)
            let optedOut = fields.bool("optedOut")
            var changes = try ContactInput.parse(&fields, defaultCountry: org.defaultCountry, requirePhone: true)
            // A create-or-merge never undoes an opt-out (`optedOut: false` merging into an
            // opted-out contact leaves it opted out); `/opt-in` or a PATCH of that contact does.
            changes.optedOut = optedOut == true ? true : nil
            let (contact, outcome) = try await storage.contacts.upsert(scope, changes)
            return JSONResponse.make(Present.contact(contact, outcome: outcome), status: outcome == .created ? .created : .ok)
        }
        api.get("contacts") { request, context in
            let scope = try context.scope()
            return try await Paging.contacts(storage, scope, try await listQuery(request, scope: scope), request: request)
        }
        api.get("contacts/export") { request, context in
            let scope = try context.scope()
            var exportQuery = try await listQuery(request, scope: scope, paging: false)
            exportQuery.limit = 1000
            let query = exportQuery
            let customNames = try await storage.contacts.customFieldNames(scope).sorted()
            let storage = self.storage
            // `contactId`, not `id`: a file's own `id` column imports as a custom field, which
            // then exports beside this one.
            let header = ["contactId", "phone", "firstName", "lastName", "email", "city", "state", "zip", "timezone", "tags", "optedOut", "optedOutAt", "isTextable", "createdAt", "updatedAt"] + customNames
            let body = ResponseBody { writer in
                var csv = CSVWriter()
                csv.writeRow(header)
                var q = query
                while true {
                    let (page, _) = try await storage.contacts.list(scope, q)
                    for c in page {
                        var row: [String?] = [c.id, c.phone, c.firstName, c.lastName, c.email, c.city, c.state, c.zip, c.timezone,
                                              c.tags.joined(separator: ";"), c.isOptedIn ? "false" : "true", c.optedOutAt.map(Instant.format),
                                              c.isTextable ? "true" : "false", Instant.format(c.createdAt), Instant.format(c.updatedAt)]
                        row += customNames.map { c.customFields[$0] }
                        csv.writeRow(row)
                    }
                    try await writer.write(ByteBuffer(bytes: csv.takeBytes()))
                    guard page.count == q.limit, let last = page.last else { break }
                    q.after = ContactListQuery.Position(sortValue: q.sort == .createdAt ? last.createdAt : last.updatedAt, key: last.key)
                }
                try await writer.finish(nil)
            }
            var headers: HTTPFields = [:]
            headers[.contentType] = "text/csv; charset=utf-8"
            headers[.contentDisposition] = "attachment; filename=\"contacts.csv\""
            return Response(status: .ok, headers: headers, body: body)
        }
        uploadRoutes.post("contacts/import") { request, context in
            try context.require(.write)
            let scope = try context.scope()
            let org = try await storage.organizations.get(scope)
            var q = QueryParameters(request)
            var issues = IssueCollector()
            let tags = ContactTags.normalize(q.list("tags"), field: "tags", into: &issues)
            let listId = q.string("listId")
            let country = (q.string("defaultCountry") ?? org.defaultCountry).uppercased()
            try q.throwIfIssues()
            if let listId, (try? await storage.lists.get(scope, id: listId)) == nil { issues.add("listId", "no such list in this organization") }
            if !PhoneNumbersSupport.isRegion(country) { issues.add("defaultCountry", "must be an ISO 3166 country code such as US") }
            let format = try UploadFormat(contentType: request.headers[.contentType])
            try issues.throwIfAny()
            // Sent with an Idempotency-Key, the upload was received (and fingerprinted) already.
            let path: String
            if let received = context.upload?.take() {
                path = received
            } else {
                path = try await uploads.receive(request.body, format: format).path
            }
            let job: ImportJob
            do {
                job = try await storage.imports.create(scope, options: ImportStore.Options(tags: tags, listId: listId, defaultCountry: country), filePath: path)
            } catch {
                try? FileManager.default.removeItem(atPath: path)
                throw error
            }
            imports.wake()
            return JSONResponse.make(.object(["id": .string(job.id), "status": .string(job.status.rawValue)]), status: .accepted)
        }
        api.get("contacts/imports/:id") { _, context in
            JSONResponse.make(Present.importJob(try await storage.imports.get(try context.scope(), id: try context.parameters.require("id"))))
        }
        api.get("contacts/imports/:id/errors") { request, context in
            // Every row error of the job in row order; the cursor carries the last row and field.
            var q = QueryParameters(request)
            let limit = q.limit()
            let cursor = q.cursor()
            let includeTotal = q.bool("includeTotal") ?? false
            try q.throwIfIssues()
            let after: (row: Int64, field: String)? = if let cursor, case .text(let field) = cursor.id { (cursor.sortValue, field) } else { nil }
            let (rows, total) = try await storage.imports.errors(try context.scope(), id: try context.parameters.require("id"), after: after,
                                                                 limit: limit + 1, includeTotal: includeTotal)
            let (errors, last) = Paging.split(rows, limit: limit)
            return Paging.envelope(errors.map(Present.importError), next: last.map { KeysetCursor(sortValue: $0.row, id: .text($0.field)) },
                                   total: total, request: request)
        }
        api.get("contacts/:id") { _, context in
            JSONResponse.make(Present.contact(try await storage.contacts.get(try context.scope(), id: try context.parameters.require("id"))))
        }
        api.patch("contacts/:id") { request, context in
            try context.require(.write)
            let scope = try context.scope()
            let id = try context.parameters.require("id")
            _ = try await storage.contacts.get(scope, id: id)
            let org = try await storage.organizations.get(scope)
            var fields = try await RequestFields.read(request, context: context)
            let optedOut = fields.bool("optedOut")
            var changes = try ContactInput.parse(&fields, defaultCountry: org.defaultCountry, requirePhone: false)
            changes.optedOut = optedOut
            changes.replaceTags = true
            return JSONResponse.make(Present.contact(try await storage.contacts.update(scope, id: id, changes)))
        }
        api.delete("contacts/:id") { _, context in
            try context.require(.write)
            try await storage.contacts.delete(try context.scope(), id: try context.parameters.require("id"))
            return JSONResponse.noContent()
        }
        api.post("contacts/:id/opt-out") { _, context in
            try context.require(.write)
            return JSONResponse.make(Present.contact(try await storage.contacts.setOptedOut(try context.scope(), id: try context.parameters.require("id"), true)))
        }
        api.post("contacts/:id/opt-in") { _, context in
            try context.require(.write)
            return JSONResponse.make(Present.contact(try await storage.contacts.setOptedOut(try context.scope(), id: try context.parameters.require("id"), false)))
        }
        api.get("tags") { request, context in
            var q = QueryParameters(request)
            let limit = q.limit(default: 200, max: 1000)
            let cursor = q.cursor()
            try q.throwIfIssues()
            // Tags page by name: the cursor carries the last tag of the page.
            let after: String? = if case .text(let tag) = cursor?.id { tag } else { nil }
            let (tags, last) = Paging.split(try await storage.contacts.tags(try context.scope(), after: after, limit: limit + 1), limit: limit)
            return Paging.bareArray(tags.map { .object(["name": .string($0.name), "contactCount": .int($0.contactCount)]) },
                                    last: last.map { KeysetCursor(sortValue: 0, id: .text($0.name)) }, request: request)
        }
    }

    /// Reads the list filters of `GET /api/contacts` (and the export).
    func listQuery(_ request: Request, scope: OrganizationScope, paging: Bool = true) async throws -> ContactListQuery {
        var q = QueryParameters(request)
        var query = ContactListQuery()
        query.search = q.string("search")
        query.tags = q.list("tags").compactMap(ContactTags.normalize)
        query.tagsMatchAll = q.oneOf("tagsLogic", ["OR", "AND"]) == "AND"
        query.isTextable = q.bool("isTextable")
        query.optedOut = q.bool("optedOut")
        query.hasEmail = q.bool("hasEmail")
        query.hasPhone = q.bool("hasPhone")
        query.states = q.list("state")
        query.zip = q.string("zip")
        if let sort = q.oneOf("sort", ["updated_at", "created_at"]) { query.sort = sort == "created_at" ? .createdAt : .updatedAt }
        query.limit = q.limit()
        if let cursor = q.cursor() {
            if let key = cursor.intKey { query.after = ContactListQuery.Position(sortValue: cursor.sortValue, key: key) }
        }
        query.includeTotal = q.bool("includeTotal") ?? false
        let segmentId = q.string("segmentId")
        try q.throwIfIssues()
        if let segmentId {
            guard let segment = try? await storage.segments.get(scope, id: segmentId) else {
                throw APIError.invalidRequest("segmentId names no segment of this organization.", details: [FieldIssue(field: "segmentId", message: "no such segment")])
            }
            query.apply(try SegmentRoutes.decode(segment.filterJSON), dialect: storage.db.dialect)
        }
        return query
    }
}

extension HTTPField.Name {
    static let contentDisposition = HTTPField.Name("Content-Disposition")!
}
