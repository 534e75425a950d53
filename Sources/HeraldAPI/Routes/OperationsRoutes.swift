import HTTPTypes
import Foundation
import HeraldStore
import Hummingbird
import Prometheus

/// `/healthz`, `/readyz`, `/metrics`, `/openapi.json` (API.md §9).
struct OperationsRoutes {
    let storage: Storage
    let prometheus: PrometheusCollectorRegistry?

    func register(on router: Router<HeraldRequestContext>) {
        router.get("healthz") { _, _ in JSONResponse.make(.object(["status": .string("ok")])) }
        router.get("readyz") { _, _ in
            let migrator = Migrator(database: storage.db)
            do {
                let current = try await migrator.currentVersion()
                guard current >= migrator.latestVersion else {
                    return JSONResponse.make(.object(["status": .string("migrations pending"), "schemaVersion": .int(current)]), status: .serviceUnavailable)
                }
                return JSONResponse.make(.object(["status": .string("ready"), "schemaVersion": .int(current)]))
            } catch {
                return JSONResponse.make(.object(["status": .string("database unreachable")]), status: .serviceUnavailable)
            }
        }
        router.get("metrics") { _, _ in
            var buffer: [UInt8] = []
            prometheus?.emit(into: &buffer)
            var headers: HTTPFields = [:]
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        router.get("openapi.json") { _, _ in
            var headers: HTTPFields = [:]
            headers[.contentType] = "application/json; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.bytes)))
        }
    }
}
