import Hummingbird

/// The HTML pages and their static files. Pages carry no secrets: the token stays in the URL fragment, which
/// browsers never send, and the scripts send it as the bearer header.
struct PageRoutes {
    let assets: WebAssets

    func register(on router: Router<FeedbackContext>) {
        router.get("/") { _, _ in Response(status: .seeOther, headers: [.location: "/admin"]) }
        router.get("label") { request, _ in
            guard let text = request.uri.queryParameters["project"], let project = Int64(String(text)) else {
                throw FeedbackError.invalid("the labeling page needs ?project=<id>")
            }
            return html(assets.labelPage(project: project))
        }
        router.get("admin") { _, _ in html(assets.adminPage) }
        router.get("chat") { _, _ in html(assets.chatPage) }
        router.get("static/:file") { _, context in
            guard let file = assets.staticFiles[try context.parameters.require("file")] else { throw HTTPError(.notFound) }
            return Response(status: .ok, headers: [.contentType: file.contentType], body: .init(byteBuffer: ByteBuffer(bytes: file.bytes)))
        }
    }

    private func html(_ page: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: page)))
    }
}
