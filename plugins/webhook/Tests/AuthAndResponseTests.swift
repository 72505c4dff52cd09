import FireflyPluginKitTesting
import FireflyModel
import FireflyPluginKit
import Foundation
import Testing
import WebhookAdapter

/// Authentication and the exact HTTP answers (status, headers, body).
@Suite struct AuthAndResponseTests {
    static let secret = "s3cr3t-hmac-key"
    static let metrics = #"[{"name": "m", "value": "v"}]"#
    static let event = #"{"v": 3}"#

    func hmacHook(_ auth: String) throws -> WebhookAdapter {
        try adapter(#"{"auth": \#(auth), "metrics": \#(Self.metrics)}"#)
    }

    static func unauthorized(_ message: String) -> String { JSONText.object(["error": message]) }

    // MARK: HMAC without a timestamp (GitHub style)

    @Test func signatureOkIsAcceptedAndEmitted() throws {
        let hook = try hmacHook(#"{"type": "hmac", "secret": "\#(Self.secret)"}"#)
        let sink = RecordingSink()
        let before = UInt64(Date().timeIntervalSince1970 * 1e9)
        let response = post(hook, Self.event, headers: [("X-Signature-256", "sha256=" + hmacHex(Self.secret, Self.event))], sink: sink)
        let after = UInt64(Date().timeIntervalSince1970 * 1e9)
        #expect(response.status == 200)
        #expect(response.contentType == "application/json")
        #expect(response.text == #"{"accepted":1}"#)
        #expect(sink.points.count == 1)
        let point = try #require(sink.points.first)
        #expect(point == gauge("m", at: point.timeUnixNano, 3))
        #expect((before...after).contains(point.timeUnixNano))
    }

    @Test func signatureWrongMissingOrMalformedIs401AndEmitsNothing() throws {
        let hook = try hmacHook(#"{"type": "hmac", "secret": "\#(Self.secret)"}"#)
        let sink = RecordingSink()
        let cases: [([(name: String, value: String)], String)] = [
            ([("X-Signature-256", "sha256=" + hmacHex("other secret", Self.event))], "signature does not match"),
            ([("X-Signature-256", "sha256=" + hmacHex(Self.secret, Self.event + " "))], "signature does not match"),
            ([], "missing X-Signature-256 header"),
            ([("X-Signature-256", hmacHex(Self.secret, Self.event))], "malformed X-Signature-256 header (expected sha256=<hex>)"),
            ([("X-Signature-256", "sha256=zz")], "malformed X-Signature-256 header (expected sha256=<hex>)"),
        ]
        for (headers, message) in cases {
            let response = post(hook, Self.event, headers: headers, sink: sink)
            #expect(response.status == 401)
            #expect(response.text == Self.unauthorized(message))
            #expect(!response.text.contains(Self.secret))
        }
        #expect(sink.batches.isEmpty)
    }

    @Test func exactReplayWithinTheWindowIsRefused() throws {
        let hook = try hmacHook(#"{"type": "hmac", "secret": "\#(Self.secret)"}"#)
        let headers = [(name: "X-Signature-256", value: "sha256=" + hmacHex(Self.secret, Self.event))]
        let sink = RecordingSink()
        #expect(post(hook, Self.event, headers: headers, sink: sink).status == 200)
        let replay = post(hook, Self.event, headers: headers, sink: sink)
        #expect(replay.status == 401)
        #expect(replay.text == Self.unauthorized("replayed request: this signature was already accepted"))
        #expect(sink.batches.count == 1)
    }

    @Test func aSignatureIsNotRememberedWhenTheRequestWasNotAccepted() throws {
        let hook = try hmacHook(#"{"type": "hmac", "secret": "\#(Self.secret)"}"#)
        let headers = [(name: "X-Signature-256", value: "sha256=" + hmacHex(Self.secret, Self.event))]
        let busy = post(hook, Self.event, headers: headers, sink: RecordingSink(answer: .busy(retryAfterMilliseconds: 1500)))
        #expect(busy.status == 503)
        let retry = post(hook, Self.event, headers: headers)
        #expect(retry.status == 200)
    }

    @Test func base64EncodingRotatedSecretsAndOtherAlgorithms() throws {
        let hook = try hmacHook(#"{"type": "hmac", "secrets": ["old", "new"], "header": "X-Sig", "prefix": "", "encoding": "base64"}"#)
        let mac = Data(Hex.decode(hmacHex("old", Self.event))!).base64EncodedString()
        #expect(post(hook, Self.event, headers: [("x-sig", mac)]).status == 200)
        // Vercel-style SHA-1, checked against `openssl dgst -sha1 -hmac key` of the same bytes.
        let sha1 = try hmacHook(#"{"type": "hmac", "algorithm": "sha1", "secret": "key", "header": "x-vercel-signature", "prefix": ""}"#)
        #expect(post(sha1, Self.event, headers: [("x-vercel-signature", "19a3bf099bb5cc8f15f53adb7ebdb5a4c06ffbcb")]).status == 200)
    }

    // MARK: HMAC with a timestamp (Stripe / Slack style)

    func stripeHook(maxAge: String = "5m") throws -> WebhookAdapter {
        try hmacHook(
            #"{"type": "hmac", "secret": "\#(Self.secret)", "header": "Stripe-Signature", "prefix": "v1=", "timestamp_header": "Stripe-Signature", "timestamp_prefix": "t=", "max_age": "\#(maxAge)"}"#
        )
    }

    func stripeHeader(_ t: UInt64, body: String = Self.event, secret: String = Self.secret) -> [(name: String, value: String)] {
        [("Stripe-Signature", "t=\(t),v1=\(hmacHex("wrong", "x")),v1=\(hmacHex(secret, "\(t).\(body)")),v0=abc")]
    }

    @Test func timestampedSignatureOkExpiredFutureAndReplayed() throws {
        let hook = try stripeHook()
        let now = nowSeconds()
        #expect(post(hook, Self.event, headers: stripeHeader(now - 60)).status == 200)
        let replay = post(hook, Self.event, headers: stripeHeader(now - 60))
        #expect(replay.status == 401)
        #expect(replay.text == Self.unauthorized("replayed request: this signature was already accepted"))
        let expired = post(hook, Self.event, headers: stripeHeader(now - 301))
        #expect(expired.status == 401)
        #expect(expired.text == Self.unauthorized("timestamp outside the 300s window"))
        let future = post(hook, Self.event, headers: stripeHeader(now + 400))
        #expect(future.status == 401)
        #expect(future.text == Self.unauthorized("timestamp outside the 300s window"))
        // The timestamp is part of the signed message: changing it breaks the signature.
        var forged = stripeHeader(now - 10)
        forged[0].value = forged[0].value.replacingOccurrences(of: "t=\(now - 10)", with: "t=\(now - 5)")
        #expect(post(hook, Self.event, headers: forged).text == Self.unauthorized("signature does not match"))
    }

    @Test func missingOrInvalidTimestampIs401() throws {
        let hook = try hmacHook(#"{"type": "hmac", "secret": "k", "header": "X-Slack-Signature", "prefix": "v0=", "timestamp_header": "X-Slack-Request-Timestamp", "signed_payload": "v0:{timestamp}:{body}"}"#)
        let t = nowSeconds()
        let sig = [(name: "X-Slack-Signature", value: "v0=" + hmacHex("k", "v0:\(t):\(Self.event)"))]
        #expect(post(hook, Self.event, headers: sig).text == Self.unauthorized("missing X-Slack-Request-Timestamp header"))
        #expect(post(hook, Self.event, headers: sig + [("X-Slack-Request-Timestamp", "yesterday")]).text == Self.unauthorized("invalid timestamp in X-Slack-Request-Timestamp"))
        #expect(post(hook, Self.event, headers: sig + [("X-Slack-Request-Timestamp", "\(t)")]).status == 200)
    }

    @Test func signedPayloadTemplatesAreValidated() throws {
        #expect(throws: PluginConfigError(problems: [
            "auth.signed_payload: uses {timestamp} but no timestamp_header is set",
        ])) { try hmacHook(#"{"type": "hmac", "secret": "k", "signed_payload": "{timestamp}.{body}"}"#) }
        #expect(throws: PluginConfigError(problems: ["auth.signed_payload: unknown placeholder {id} (known: {timestamp}, {body})"])) {
            try hmacHook(#"{"type": "hmac", "secret": "k", "signed_payload": "{id}.{body}"}"#)
        }
        #expect(throws: PluginConfigError(problems: ["auth.signed_payload: must contain {body}"])) {
            try hmacHook(#"{"type": "hmac", "secret": "k", "signed_payload": "static"}"#)
        }
    }

    // MARK: Bearer

    @Test func bearerTokenOkWrongAndMissing() throws {
        let hook = try hmacHook(#"{"type": "bearer", "tokens": ["tok-old", "tok-new"]}"#)
        #expect(post(hook, Self.event, headers: [("Authorization", "Bearer tok-new")]).status == 200)
        #expect(post(hook, Self.event, headers: [("Authorization", "bearer tok-old")]).status == 200)
        let wrong = post(hook, Self.event, headers: [("Authorization", "Bearer tok-ne")])
        #expect(wrong.status == 401)
        #expect(wrong.text == Self.unauthorized("invalid token"))
        #expect(post(hook, Self.event, headers: [("Authorization", "Basic dG9rLW5ldw==")]).text == Self.unauthorized("expected Authorization: Bearer <token>"))
        #expect(post(hook, Self.event).text == Self.unauthorized("missing Authorization header"))
    }

    @Test func bearerInACustomHeader() throws {
        let hook = try hmacHook(#"{"type": "bearer", "token": "k-123", "header": "X-Api-Key"}"#)
        #expect(post(hook, Self.event, headers: [("x-api-key", "k-123")]).status == 200)
        #expect(post(hook, Self.event, headers: [("x-api-key", "Bearer k-123")]).status == 401)
    }

    // MARK: Other answers

    @Test func unsupportedContentTypeIs415() throws {
        let hook = try mapper(Self.metrics)
        let response = post(hook, Self.event, headers: [("Content-Type", "application/x-www-form-urlencoded")])
        #expect(response.status == 415)
        #expect(response.text == JSONText.object(["error": "unsupported Content-Type 'application/x-www-form-urlencoded'; send application/json or application/x-ndjson"]))
        for type in ["application/json; charset=utf-8", "application/x-ndjson", "application/vnd.github+json", "Application/JSON"] {
            #expect(post(hook, Self.event, headers: [("Content-Type", type)]).status == 200)
        }
    }

    @Test func busySinkIs503WithRetryAfter() throws {
        let response = post(try mapper(Self.metrics), Self.event, sink: RecordingSink(answer: .busy(retryAfterMilliseconds: 1500)))
        #expect(response.status == 503)
        #expect(response.header("Retry-After") == "2")
        #expect(response.text == #"{"error":"collector is busy; retry later"}"#)
        let closed = post(try mapper(Self.metrics), Self.event, sink: RecordingSink(answer: .closed(retryAfterMilliseconds: 0)))
        #expect(closed.status == 503)
        #expect(closed.header("Retry-After") == "1")
    }

    @Test func wrongTypeIs400WithFieldAndPathAndNothingIsEmitted() throws {
        let sink = RecordingSink()
        let response = post(try mapper(Self.metrics), #"[{"v": 1}, {"v": "x"}]"#, sink: sink)
        #expect(response.status == 400)
        #expect(response.text == #"{"error":"expected a number, found a non-numeric string","field":"metrics[0].value","path":"$[1].v"}"#)
        #expect(sink.batches.isEmpty)
    }

    @Test func eventsThatMatchNoConditionAreAcceptedWithoutEmitting() throws {
        let sink = RecordingSink()
        let hook = try mapper(#"[{"name": "m", "value": "v", "condition": {"path": "kind", "equals": "x"}}]"#)
        let response = post(hook, #"{"kind": "y"}"#, sink: sink)
        #expect(response.status == 200)
        #expect(response.text == #"{"accepted":0}"#)
        #expect(sink.batches.isEmpty)
    }

    @Test func otherMethodsAre405AndHostRejectionsUseTheSameErrorShape() throws {
        let hook = try mapper(Self.metrics)
        let get = hook.handle(PluginRequest(method: "GET", path: hook.path), sink: RecordingSink())
        #expect(get.status == 405)
        #expect(get.header("Allow") == "POST")
        let tooLarge = hook.reject(PluginRequest(method: "POST", path: hook.path), status: 413, message: "body larger than 64 MiB")
        #expect(tooLarge.status == 413)
        #expect(String(decoding: tooLarge.body, as: UTF8.self) == #"{"error":"body larger than 64 MiB"}"#)
    }
}
