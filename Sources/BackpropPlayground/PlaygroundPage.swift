/// The playground's single page: HTML, CSS and script in one document, so the server needs no
/// files beside the executable.
///
/// The script holds no training code: it sends the settings and commands over the session's
/// WebSocket and shows what the server sends back (SVG pictures made by ``Plot``, PNG maps inside
/// them, and numbers).
/// Text from the server is set as text, never as markup; the pictures are the server's own SVG,
/// whose text is escaped where it is made.
enum PlaygroundPage {
  static let html = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Backprop playground</title>
    <style>
      body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 0; color: #222;
             background: #f6f7f9; }
      header { display: flex; align-items: center; gap: 10px; padding: 10px 16px;
               background: #183153; color: #fff; flex-wrap: wrap; }
      header h1 { font-size: 18px; margin: 0 10px 0 0; }
      header button { font-size: 15px; padding: 5px 12px; cursor: pointer; }
      header a { color: #cfe3ff; }
      .numbers span { margin-right: 12px; white-space: nowrap; }
      #messages { padding: 0 16px; }
      #error { color: #b00020; margin: 6px 0; }
      #notices { color: #7a5d00; margin: 6px 0; }
      main { display: grid; grid-template-columns: 250px minmax(0, 1fr) minmax(0, 1fr); gap: 12px;
             padding: 8px 16px 16px; }
      fieldset { border: 1px solid #ccd; background: #fff; margin: 0 0 10px; }
      legend { font-weight: bold; }
      label { display: block; font-size: 13px; margin: 6px 0; }
      input, select { width: 100%; box-sizing: border-box; font-size: 13px; }
      .picture svg { width: 100%; height: auto; background: #fff; border: 1px solid #dde; }
      #network-picture circle[data-neuron] { cursor: pointer; }
      #network-picture text { pointer-events: none; }
      #network-picture circle.selected { stroke: #d62728; stroke-width: 4; }
      #network-picture line.edge { cursor: pointer; }
      #network-picture line.selected-edge { stroke: #d62728; stroke-opacity: 1; }
      #network-picture image { pointer-events: none; }
      .inputs label { display: inline-block; width: 48%; margin: 2px 0; }
      .inputs input { width: auto; }
      .panel { background: #fff; border: 1px solid #dde; padding: 6px 8px; margin: 8px 0;
               font-size: 13px; }
      .panel input { width: 7em; }
      .panel button { font-size: 13px; }
      #neuron-map { width: 160px; height: 160px; border: 1px solid #dde; background: #fff;
                    float: right; margin: 0 0 6px 8px; }
      #doctor-notes li { margin: 3px 0; font-size: 13px; }
      #doctor-notes .problem { font-weight: bold; color: #b00020; }
      h2 { font-size: 15px; margin: 10px 0 4px; }
      table { border-collapse: collapse; font-size: 12px; width: 100%; background: #fff; }
      th, td { border-bottom: 1px solid #eee; padding: 2px 6px; text-align: left;
               vertical-align: top; }
      td.number, td.formula { font-family: "DejaVu Sans Mono", monospace; }
      .hint { font-size: 12px; color: #555; }
    </style>
    </head>
    <body>
    <header>
      <h1>Backprop playground</h1>
      <button id="reset" title="Start over with these settings">⟲ Reset</button>
      <button id="start" title="Train continuously">▶ Start</button>
      <button id="step" title="Train on one batch">Step</button>
      <a id="download" href="#" download="playground-model.json"
         title="A model file that `backprop predict` reads">Download model</a>
      <span class="numbers">
        <span>status <b id="status">connecting</b></span>
        <span>step <b id="step-count">0</b></span>
        <span>epoch <b id="epoch-count">0</b></span>
        <span>train loss <b id="train-loss">–</b></span>
        <span>test loss <b id="test-loss">–</b></span>
        <span>train accuracy <b id="train-accuracy">–</b></span>
        <span>test accuracy <b id="test-accuracy">–</b></span>
        <span title="Bytes of the last frame the server sent">frame <b id="frame-size">–</b></span>
      </span>
    </header>
    <div id="messages"><div id="error" role="alert"></div><div id="notices"></div></div>
    <main>
      <section id="settings">
        <fieldset><legend>Data</legend>
          <label>Data set <select id="data">
            <option value="xor">XOR</option><option value="circles">circles</option>
            <option value="moons">two moons</option><option value="spirals">spirals</option>
            <option value="blobs">blobs</option><option value="sine-boundary">sine boundary</option>
            <option value="sine">sine (regression)</option>
            <option value="plane">plane (2-D regression)</option>
            <option value="multi-gaussian">multi-gaussian (2-D regression)</option>
            <option value="upload">uploaded CSV</option>
          </select></label>
          <label>CSV file (the last column is the target)
            <input type="file" id="upload-file" accept=".csv,text/csv"></label>
          <div id="upload-info" class="hint"></div>
          <label>Samples <input id="samples" type="number" min="10"></label>
          <label>Noise <input id="noise" type="number" step="0.05" min="0" max="2"></label>
          <label>Training share (the rest is the test set)
            <input id="trainFraction" type="number" step="0.1" min="0.1" max="0.9"></label>
          <label>Seed <input id="seed" type="number" min="0"></label>
        </fieldset>
        <fieldset><legend>Network</legend>
          <div class="inputs" id="features" title="The network's inputs, computed from x₁ and x₂">
            <label><input type="checkbox" data-feature="x1"> x₁</label>
            <label><input type="checkbox" data-feature="x2"> x₂</label>
            <label><input type="checkbox" data-feature="x1sq"> x₁²</label>
            <label><input type="checkbox" data-feature="x2sq"> x₂²</label>
            <label><input type="checkbox" data-feature="x1x2"> x₁x₂</label>
            <label><input type="checkbox" data-feature="sinx1"> sin x₁</label>
            <label><input type="checkbox" data-feature="sinx2"> sin x₂</label>
          </div>
          <label>Hidden layers (neurons, comma-separated; 8:relu gives one its own activation)
            <input id="layers"></label>
          <label>Activation <select id="activation">
            <option>tanh</option><option>sigmoid</option><option>relu</option>
            <option>leaky-relu</option><option>identity</option></select></label>
          <label>Dropout after each hidden layer
            <input id="dropout" type="number" step="0.05" min="0" max="0.9"></label>
          <label>Loss <select id="loss">
            <option value="">chosen by the data</option><option>cross-entropy</option>
            <option>binary-cross-entropy</option><option>mse</option>
            <option>half-sum-of-squares</option></select></label>
        </fieldset>
        <fieldset><legend>Training</legend>
          <label>Optimizer <select id="optimizer"><option>sgd</option><option>adam</option>
            </select></label>
          <label>Learning rate <input id="learningRate" type="number" step="any" min="0"></label>
          <label>Batch size <input id="batchSize" type="number" min="1"></label>
          <label>L2 weight decay <input id="weightDecay" type="number" step="any" min="0"></label>
          <label>L1 regularization <input id="l1Penalty" type="number" step="any" min="0"></label>
          <label>Speed (steps per second) <input id="speed" type="number" min="1"></label>
        </fieldset>
        <p class="hint">Each neuron shows its output over the input plane (a curve for 1-D data);
          hover over one to see it large, click it for its numbers, click an edge to read and set
          its weight.</p>
        <p class="hint">The settings are in the page's address: copy it to share this run.
          TensorFlow Playground links work too (paste their #… part after this page's address).</p>
      </section>
      <section>
        <div id="data-picture" class="picture"></div>
        <div id="loss-picture" class="picture">
          <p class="hint">The loss curve appears after the first epoch.</p></div>
      </section>
      <section>
        <label class="hint"><input type="checkbox" id="gradient-view" style="width:auto">
          Gradient flow: edges by ∂E/∂w of the last step, rings by δ</label>
        <div id="network-picture" class="picture"></div>
        <ul id="doctor-notes"></ul>
        <div id="edge-panel" class="panel" hidden>
          Edge <b id="edge-name"></b> <span id="edge-symbol" class="hint"></span>:
          w = <b id="edge-weight"></b>, ∂E/∂w = <b id="edge-gradient"></b><br>
          <label style="display:inline">Set w to <input id="edge-value" type="number" step="any">
          </label> <button id="edge-set">Set</button>
          <span class="hint">Set weights go into the link (at most \#(PlaygroundLimits.weightsInLink)).</span>
        </div>
        <img id="neuron-map" alt="the neuron's map">
        <h2>Neuron <span id="neuron-name">–</span>: its last forward and backward pass</h2>
        <p id="trace-note" class="hint">Click a neuron in the network; take a step to see its
          numbers.</p>
        <table id="trace"><thead><tr><th>quantity</th><th>formula</th><th>value (per sample)</th>
          </tr></thead><tbody></tbody></table>
      </section>
    </main>
    <script>
    "use strict";
    const fields = ["data", "samples", "noise", "trainFraction", "layers", "activation", "dropout",
      "loss", "optimizer", "learningRate", "batchSize", "weightDecay", "l1Penalty", "seed",
      "speed"];
    // Changing these makes another network, whose edges the weights set by hand may not have.
    const shapeFields = ["data", "layers"];
    let setWeights = "";
    let selectedMap = null;
    let lastFrame = null;
    const $ = (id) => document.getElementById(id);
    let socket = null;
    let sessionID = null;
    let running = false;
    let pendingNotices = [];

    function showError(text) { $("error").textContent = text || ""; }

    function format(value) {
      if (value === null || value === undefined) return "–";
      if (typeof value === "string") return value;
      const size = Math.abs(value);
      if (value !== 0 && (size >= 1e5 || size < 1e-4)) return value.toExponential(3);
      return String(Number(value.toPrecision(6)));
    }

    function checkedFeatures() {
      return [...document.querySelectorAll("#features input[data-feature]")]
        .filter((box) => box.checked).map((box) => box.dataset.feature);
    }

    function queryFromControls() {
      const items = fields.filter((name) => !(name === "loss" && $(name).value === ""))
        .map((name) => encodeURIComponent(name) + "=" + encodeURIComponent($(name).value.trim()));
      const features = checkedFeatures().join(",");
      // The plain features are the default, which fits 1-D data too.
      if (features !== "x1,x2") items.push("features=" + encodeURIComponent(features));
      if (setWeights) items.push("weights=" + encodeURIComponent(setWeights));
      return items.join("&");
    }

    function send(command) {
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(command));
    }

    function applySession(message) {
      sessionID = message.id;
      const settings = message.settings;
      for (const name of fields) {
        if (name === "layers") $(name).value = settings.layers.join(",");
        else if (name === "dropout" || name === "l1Penalty") $(name).value = settings[name] || 0;
        else if (name === "loss") $(name).value = settings.loss || "";
        else $(name).value = settings[name];
      }
      const features = settings.features.length ? settings.features : ["x1", "x2"];
      for (const box of document.querySelectorAll("#features input[data-feature]")) {
        box.checked = features.includes(box.dataset.feature);
      }
      setWeights = settings.weights.map((item) => item.edge + ":" + item.value).join(",");
      $("samples").max = message.limits.samples;
      $("batchSize").max = message.limits.samples;
      $("speed").max = message.limits.stepsPerSecond;
      history.replaceState(null, "", "?" + message.query);
      const notices = message.notices.length ? message.notices : pendingNotices;
      pendingNotices = [];
      $("notices").textContent = notices.join(" · ");
      $("upload-info").textContent = message.upload || "";
      $("download").href = "/api/session/" + sessionID + "/model";
    }

    function setPicture(id, svg) {
      if (svg) $(id).innerHTML = svg;
    }

    function showMap(name, source) {
      if (!source) return;
      $("neuron-map").src = source;
      $("neuron-map").title = "the output of " + name + " over the input plane";
    }

    function showEdge(edge) {
      $("edge-panel").hidden = !edge;
      for (const line of document.querySelectorAll("#network-picture line.selected-edge")) {
        line.classList.remove("selected-edge");
      }
      if (!edge) return;
      $("edge-name").textContent = edge.name;
      $("edge-symbol").textContent = edge.symbol ? "(" + edge.symbol + ")" : "";
      $("edge-weight").textContent = format(edge.weight);
      $("edge-gradient").textContent = edge.gradient === null || edge.gradient === undefined
        ? "– (take a step)" : format(edge.gradient);
      const line = document.querySelector('#network-picture line[data-edge="' + edge.name + '"]');
      if (line) line.classList.add("selected-edge");
    }

    function showNotes(notes) {
      $("doctor-notes").replaceChildren(...notes.map((note) => {
        const item = document.createElement("li");
        const problem = document.createElement("span");
        problem.className = "problem";
        problem.textContent = "Doctor: " + note.problem;
        item.append(problem, ": " + note.evidence + ". Fix: " + note.fix +
          (note.neurons.length ? " (" + note.neurons.join(", ") + ")" : ""));
        item.dataset.neurons = note.neurons.join(" ");
        return item;
      }));
    }

    function showFrame(frame) {
      running = frame.status === "running";
      $("start").textContent = running ? "❚❚ Pause" : "▶ Start";
      $("status").textContent = frame.status;
      $("step-count").textContent = frame.step;
      $("epoch-count").textContent = frame.epoch;
      $("train-loss").textContent = format(frame.trainLoss);
      $("test-loss").textContent = format(frame.testLoss);
      $("train-accuracy").textContent = format(frame.trainAccuracy);
      $("test-accuracy").textContent = format(frame.testAccuracy);
      if (frame.message) showError(frame.message);
      setPicture("data-picture", frame.pictures.data);
      if (frame.dataMap) {
        const map = $("data-picture").querySelector("image");
        if (map) map.setAttribute("href", frame.dataMap);
      }
      setPicture("network-picture", frame.pictures.network);
      setPicture("loss-picture", frame.pictures.loss);
      lastFrame = frame;
      $("gradient-view").checked = frame.view === "gradients";
      selectedMap = frame.neuronMap;
      showMap(frame.neuron, frame.neuronMap);
      showEdge(frame.edge);
      showNotes(frame.notes);
      $("neuron-name").textContent = frame.neuron || "–";
      for (const circle of document.querySelectorAll("#network-picture circle[data-neuron]")) {
        circle.classList.toggle("selected", circle.dataset.neuron === frame.neuron);
      }
      $("trace-note").textContent = frame.traceNote ||
        "Click a neuron in the network; take a step to see its numbers.";
      const body = document.querySelector("#trace tbody");
      body.replaceChildren(...frame.trace.map((quantity) => {
        const row = document.createElement("tr");
        const values = quantity.values.slice(0, 4).map(format).join(", ") +
          (quantity.values.length > 4 ? ", … (" + quantity.values.length + ")" : "");
        for (const [text, kind] of [[quantity.symbol, "name"], [quantity.formula, "formula"],
                                    [values, "number"]]) {
          const cell = document.createElement("td");
          cell.className = kind;
          cell.textContent = text;
          row.append(cell);
        }
        row.title = quantity.key + " (" + quantity.kind + ")";
        return row;
      }));
    }

    async function connect() {
      let query = location.search.slice(1);
      let dialect = "backprop";
      if (location.hash.includes("=")) {
        query = location.hash.slice(1);
        dialect = "tensorflow";
      }
      const check = await fetch("/api/settings?" + query +
        (dialect === "tensorflow" ? "&dialect=tensorflow" : ""));
      if (check.ok) {
        const answer = await check.json();
        if (answer.sessionsOpen >= answer.sessionLimit) {
          showError("The playground already has " + answer.sessionLimit +
            " open pages, its limit; close one and reload this page.");
          return;
        }
        query = answer.query;
        pendingNotices = answer.notices;
        if (answer.settings.data === "upload") {
          // The file is not in the link; start on XOR until it is uploaded again.
          query = query.replace("data=upload", "data=xor");
          pendingNotices.push("This link trained on an uploaded file: upload it again.");
        }
      } else {
        showError((await check.text()) + " (started with the default settings instead)");
        query = "";
      }
      const scheme = location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + location.host + "/api/session?" + query);
      socket.onmessage = (event) => {
        const message = JSON.parse(event.data);
        if (message.type === "frame") {
          window.lastFrameBytes = event.data.length;
          window.largestFrameBytes = Math.max(window.largestFrameBytes || 0, event.data.length);
          $("frame-size").textContent = (event.data.length / 1024).toFixed(1) + " KB";
        }
        if (message.type === "session") applySession(message);
        else if (message.type === "frame") showFrame(message);
        else if (message.type === "error") showError(message.message);
      };
      socket.onclose = (event) => {
        $("status").textContent = "disconnected";
        const why = event.reason || "the server stopped, or it is full";
        showError("The connection to the playground closed (" + why + "); reload the page " +
          "to start again.");
      };
    }

    function configure(changesShape) {
      showError("");
      if (changesShape) setWeights = "";
      send({ command: "configure", query: queryFromControls() });
    }
    for (const name of fields) {
      $(name).addEventListener("change", () => configure(shapeFields.includes(name)));
    }
    for (const box of document.querySelectorAll("#features input[data-feature]")) {
      box.addEventListener("change", () => configure(true));
    }
    $("gradient-view").addEventListener("change", () =>
      send({ command: "view", gradients: $("gradient-view").checked }));
    $("edge-set").addEventListener("click", () => {
      const value = Number($("edge-value").value);
      if ($("edge-value").value.trim() === "" || !Number.isFinite(value)) {
        showError("type a number for the weight");
        return;
      }
      showError("");
      send({ command: "set-weight", edge: $("edge-name").textContent, value: value });
    });
    $("network-picture").addEventListener("mouseover", (event) => {
      const circle = event.target.closest("circle[data-neuron]");
      if (!circle) return;
      const image = document.querySelector(
        '#network-picture image[data-map="' + circle.dataset.neuron + '"]');
      if (image) showMap(circle.dataset.neuron, image.getAttribute("href"));
    });
    $("network-picture").addEventListener("mouseout", (event) => {
      if (event.target.closest("circle[data-neuron]") && lastFrame) {
        showMap(lastFrame.neuron, selectedMap);
      }
    });

    // The edge nearest a click, within 8 pixels of the picture: lines are too thin to aim at.
    function nearestEdge(event) {
      const svg = $("network-picture").querySelector("svg");
      if (!svg || !svg.getScreenCTM()) return null;
      const point = new DOMPoint(event.clientX, event.clientY)
        .matrixTransform(svg.getScreenCTM().inverse());
      let best = null;
      let bestDistance = 8;
      for (const line of svg.querySelectorAll("line[data-edge]")) {
        const [x1, y1, x2, y2] = ["x1", "y1", "x2", "y2"].map((key) =>
          Number(line.getAttribute(key)));
        const length = (x2 - x1) ** 2 + (y2 - y1) ** 2 || 1;
        const t = Math.max(0, Math.min(1, ((point.x - x1) * (x2 - x1) +
          (point.y - y1) * (y2 - y1)) / length));
        const distance = Math.hypot(point.x - (x1 + t * (x2 - x1)), point.y - (y1 + t * (y2 - y1)));
        if (distance < bestDistance) {
          best = line;
          bestDistance = distance;
        }
      }
      return best;
    }
    $("start").addEventListener("click", () => send({ command: running ? "pause" : "start" }));
    $("step").addEventListener("click", () => send({ command: "step" }));
    $("reset").addEventListener("click", () => { showError(""); send({ command: "reset" }); });
    $("network-picture").addEventListener("click", (event) => {
      const circle = event.target.closest("circle[data-neuron]");
      if (circle) {
        send({ command: "select", neuron: circle.dataset.neuron });
        return;
      }
      const line = event.target.closest("line[data-edge]") || nearestEdge(event);
      if (line) {
        $("edge-value").value = line.dataset.value;
        send({ command: "select-edge", edge: line.dataset.edge });
      }
    });
    $("upload-file").addEventListener("change", async () => {
      const file = $("upload-file").files[0];
      if (!file || !sessionID) return;
      showError("");
      const answer = await fetch("/api/session/" + sessionID + "/upload?name=" +
        encodeURIComponent(file.name), { method: "POST", body: file });
      if (!answer.ok) {
        showError(await answer.text());
        return;
      }
      $("data").value = "upload";
      $("loss").value = "";
      send({ command: "configure", query: queryFromControls() });
    });
    connect().catch((error) => showError("Could not reach the playground: " + error));
    </script>
    </body>
    </html>
    """#
}
