/// The playground's single page: HTML, CSS and script in one document, so the server needs no
/// files beside the executable.
enum PlaygroundPage {
  static let html = "<!doctype html><title>Backprop playground</title>"
}
