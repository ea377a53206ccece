import Foundation
import Hummingbird

/// Request bodies read with a size limit (413 past it) and decoded with errors that name the bad field (400).
extension Request {
    public func bodyData(limit: Int) async throws -> Data {
        let tooLarge = HTTPError(.contentTooLarge, message: "the request body is over \(limit) bytes")
        // Refused from the header alone: a client declaring a huge body is not waited for.
        if let declared = headers[.contentLength].flatMap({ Int($0) }), declared > limit { throw tooLarge }
        var data = Data()
        for try await chunk in body {
            data.append(contentsOf: chunk.readableBytesView)
            if data.count > limit { throw tooLarge }
        }
        return data
    }

    public func decodeJSON<T: Decodable>(_ type: T.Type, limit: Int) async throws -> T {
        let data = try await bodyData(limit: limit)
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw FeedbackError.invalid(error.shortDescription)
        }
    }
}

/// A JSON response with keys sorted, as every API answer is sent.
public func jsonResponse(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
}
