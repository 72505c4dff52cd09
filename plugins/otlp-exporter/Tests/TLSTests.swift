// TLS to the receiver: trusted through tls.ca_file, refused without it.
import FireflyModel
import FireflyTestSupport
import Foundation
import OTLPExporter
import Testing

@Suite(.serialized) struct ExporterTLSTests {
    /// A CA and a server certificate it signed (for 127.0.0.1 and localhost), made by openssl.
    struct Certificates {
        var directory: String
        var ca: String { directory + "/ca.pem" }
        var cert: String { directory + "/server.pem" }
        var key: String { directory + "/server.key" }

        static func make() throws -> Certificates {
            let c = Certificates(directory: NSTemporaryDirectory() + "firefly-otlp-tls-\(UUID().uuidString)")
            try FileManager.default.createDirectory(atPath: c.directory, withIntermediateDirectories: true)
            try "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                .write(toFile: c.directory + "/ext.cnf", atomically: true, encoding: .utf8)
            let steps: [[String]] = [
                [
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-subj",
                    "/CN=Firefly test CA", "-days", "2",
                ],
                [
                    "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj",
                    "/CN=localhost",
                ],
                [
                    "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
                    "server.pem",
                    "-days", "2", "-extfile", "ext.cnf",
                ],
            ]
            for step in steps {
                let r = try run("/usr/bin/openssl", step, cwd: c.directory)
                guard r.status == 0 else {
                    throw PythonReceiver.Failure(description: "openssl \(step[0]) failed: \(r.stderr)")
                }
            }
            return c
        }
    }

    @Test(arguments: ["http/protobuf", "grpc"])
    func aServerSignedByTheConfiguredCAIsTrusted(transport: String) async throws {
        let certs = try await offThePool { try Certificates.make() }
        defer { try? FileManager.default.removeItem(atPath: certs.directory) }
        let receiver = try await PythonReceiver.start(tls: (certs.cert, certs.key))
        defer { receiver.stop() }
        let endpoint = transport == "grpc" ? receiver.grpcEndpoint : receiver.httpsEndpoint
        let batch = TelemetryBatch(spans: SampleBatch.spans)

        let trusting = try makeExporter([
            "endpoint": .string(endpoint), "protocol": .string(transport),
            "tls": .object(["ca_file": .string(certs.ca)]),
        ])
        let trusted = await exportLikeTheHost(trusting, batch)
        #expect(trusted.last == .ok, "\(trusted)")
        await trusting.shutdown()
        let delivered = try await receiver.received().spans.count
        #expect(delivered >= SampleBatch.spans.count)

        // Without the CA the server's certificate is not trusted: nothing is sent, the batch stays queued.
        let untrusting = try makeExporter([
            "endpoint": .string(endpoint), "protocol": .string(transport), "timeout": .string("3s"),
        ])
        let refused = await untrusting.export(batch)
        await untrusting.shutdown()
        guard case .retryable = refused else {
            Issue.record("expected retryable, got \(refused)")
            return
        }
        #expect(try await receiver.received().spans.count == delivered)
    }
}
