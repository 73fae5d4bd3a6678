"""The playground in a real browser: Chromium driven by selenium through chromedriver.

Usage: playground-e2e.py BACKPROP CHROMIUM WORKDIR

Starts `backprop playground` on a free loopback port and checks, as a person would see it:
  1. XOR from a link: the controls show the link's settings; Start trains; after a while the
     training loss shown has fallen and the decision picture has changed; Pause stops it.
  2. A click on a neuron of the network shows its forward and backward values.
  3. The downloaded model is read by `backprop predict` and classifies XOR's corners.
  4. Changing a control rewrites the page's address (the settings live in the URL).
  5. A TensorFlow Playground link (#dataset=…) with extra inputs and L1 is read into the
     controls, and its inputs appear in the network.
  6. Two pages have separate sessions: stopping one leaves the other training.
  7. Spirals with x₁², x₂², sin x₁, sin x₂, two tanh layers: every neuron shows its map, the maps
     change as training runs, hovering over a neuron shows its map large, the gradient toggle
     recolours the edges; a screenshot is taken mid-training.
  8. A feature ticked on the page appears as an input neuron.
  9. A weight typed for a clicked edge comes back in the next frame and in the link.
 10. Doctor's notes appear beside the picture and mark the neurons they are about.
 11. At the default settings no frame is over 30 KB.
Exits non-zero with a message on the first failure.
"""

import os
import re
import subprocess
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait


def fail(message):
    print(f"playground e2e: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def start_server(backprop):
    server = subprocess.Popen(
        [backprop, "playground", "--port", "0", "--max-sessions", "4"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = server.stdout.readline()
    match = re.search(r"(http://\S+/)", line)
    if not match:
        server.kill()
        fail(f"the server printed no URL: {line!r} {server.stderr.read()!r}")
    return server, match.group(1)


def make_driver(chromium):
    options = Options()
    options.binary_location = chromium
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--window-size=1400,1000"]:
        options.add_argument(flag)
    driver_path = os.environ.get("CHROMEDRIVER") or "/usr/bin/chromedriver"
    return webdriver.Chrome(service=Service(executable_path=driver_path), options=options)


def text(driver, element_id):
    return driver.find_element(By.ID, element_id).text.strip()


def number(driver, element_id):
    value = text(driver, element_id)
    try:
        return float(value)
    except ValueError:
        fail(f"#{element_id} shows {value!r}, not a number")


def wait_for(driver, condition, what, timeout=30):
    try:
        WebDriverWait(driver, timeout, poll_frequency=0.2).until(lambda d: condition(d))
    except Exception:
        errors = text(driver, "error")
        fail(f"timed out waiting for {what} (page error: {errors!r}, status: "
             f"{text(driver, 'status')!r})")


def picture(driver, element_id):
    return driver.find_element(By.ID, element_id).get_attribute("innerHTML")


def neuron_maps(driver):
    """Each neuron's map (its PNG data URI) in the network picture, by neuron."""
    return driver.execute_script(
        "const maps = {};"
        "for (const image of document.querySelectorAll('#network-picture image[data-map]'))"
        "  maps[image.dataset.map] = image.getAttribute('href');"
        "return maps;")


def edge_values(driver):
    return driver.execute_script(
        "return [...document.querySelectorAll('#network-picture line[data-edge]')]"
        ".map((line) => line.dataset.edge + '=' + line.dataset.value + line.getAttribute('stroke'));")


def check_maps_and_gradients(driver, url, workdir):
    """Check 7: spirals with added inputs, maps changing, hover, the gradient view."""
    driver.get(url + "?data=spirals&samples=400&noise=0&features=x1,x2,x1sq,x2sq,sinx1,sinx2"
               "&layers=8,8&activation=tanh&learningRate=0.03&batchSize=10&seed=2&speed=400")
    wait_for(driver, lambda d: len(neuron_maps(d)) == 6 + 8 + 8 + 2, "a map for every neuron")
    labels = driver.execute_script(
        "return [...document.querySelectorAll('#network-picture text.node-name')]"
        ".map((t) => t.textContent);")
    for label in ["x₁²", "x₂²", "sin x₁", "sin x₂"]:
        if label not in labels:
            fail(f"the input {label} is not in the network picture: {labels}")
    before = neuron_maps(driver)
    driver.find_element(By.ID, "start").click()
    wait_for(driver, lambda d: number(d, "epoch-count") >= 15, "15 epochs of spirals", 60)
    after = neuron_maps(driver)
    changed = [name for name in before if not name.startswith("i") and before[name] != after[name]]
    if len(changed) < 16:
        fail(f"only {len(changed)} hidden and output maps changed during training: {changed}")
    if any(before[name] != after[name] for name in before if name.startswith("i")):
        fail("an input's map changed, though inputs do not train")
    print(f"spirals: {len(changed)} hidden and output maps changed after "
          f"{text(driver, 'epoch-count')} epochs")
    # Hovering over a neuron shows its map large. Paused, so that no frame replaces the picture
    # under the pointer.
    driver.find_element(By.ID, "start").click()
    wait_for(driver, lambda d: text(d, "status") == "paused", "the spirals to pause", 10)
    circle = driver.find_element(By.CSS_SELECTOR, '#network-picture circle[data-neuron="h2_3"]')
    ActionChains(driver).move_to_element(circle).perform()
    wait_for(driver, lambda d: d.find_element(By.ID, "neuron-map").get_attribute("src")
             == neuron_maps(d).get("h2_3") or "h2_3" in (d.find_element(By.ID, "neuron-map")
             .get_attribute("title") or ""), "the hovered neuron's map, large", 10)
    ActionChains(driver).move_to_element(driver.find_element(By.ID, "status")).perform()
    driver.find_element(By.ID, "start").click()
    wait_for(driver, lambda d: text(d, "status") == "running", "the spirals to train on", 10)
    # The gradient view recolours the edges by ∂E/∂w.
    weights = edge_values(driver)
    driver.find_element(By.ID, "gradient-view").click()
    wait_for(driver, lambda d: "∂E/∂w" in picture(d, "network-picture"), "the gradient view")
    gradients = edge_values(driver)
    recoloured = sum(1 for a, b in zip(weights, gradients) if a != b)
    if recoloured < len(weights) // 2:
        fail(f"the gradient view recoloured {recoloured} of {len(weights)} edges")
    time.sleep(1)
    driver.save_screenshot(os.path.join(workdir, "playground-spirals.png"))
    driver.find_element(By.ID, "start").click()
    wait_for(driver, lambda d: text(d, "status") == "paused", "the spirals to pause", 10)
    driver.find_element(By.ID, "gradient-view").click()
    wait_for(driver, lambda d: "edges: weights" in picture(d, "network-picture"), "the weight view")
    print(f"gradient view: {recoloured} of {len(weights)} edges recoloured; screenshot "
          "playground-spirals.png")


def check_feature_weight_and_doctor(driver, url):
    """Checks 8 to 10: a ticked feature, an edited weight, Doctor's notes."""
    driver.get(url + "?data=xor&layers=3&seed=5&speed=100")
    wait_for(driver, lambda d: text(d, "status") == "paused", "the XOR page")
    driver.find_element(By.CSS_SELECTOR, '#features input[data-feature="x1x2"]').click()
    wait_for(driver, lambda d: "features=x1,x2,x1x2" in d.current_url
             and d.find_elements(By.CSS_SELECTOR, '#network-picture circle[data-neuron="i3"]'),
             "the input x₁x₂")
    if "x₁x₂" not in picture(driver, "network-picture"):
        fail("the input x₁x₂ has no label in the network picture")
    print(f"a ticked feature is an input: {driver.current_url}")

    driver.find_element(By.ID, "step").click()
    wait_for(driver, lambda d: number(d, "step-count") == 1, "a step")
    line = driver.find_element(By.CSS_SELECTOR, '#network-picture line[data-edge="i3-h2"]')
    ActionChains(driver).move_to_element(line).click().perform()
    wait_for(driver, lambda d: d.find_element(By.ID, "edge-panel").is_displayed(),
             "the edge's weight and gradient")
    edge = text(driver, "edge-name")
    gradient = text(driver, "edge-gradient")
    if not edge or "-" not in edge:
        fail(f"the clicked edge shows no name: {edge!r}")
    try:
        float(text(driver, "edge-weight"))
        float(gradient)
    except ValueError:
        fail(f"the edge {edge} shows w {text(driver, 'edge-weight')!r}, ∂E/∂w {gradient!r}")
    field = driver.find_element(By.ID, "edge-value")
    field.clear()
    field.send_keys("1.5")
    driver.find_element(By.ID, "edge-set").click()
    wait_for(driver, lambda d: text(d, "edge-weight") == "1.5"
             and d.find_elements(By.CSS_SELECTOR,
                                 f'#network-picture line[data-edge="{edge}"][data-value="1.5"]'),
             "the edited weight in the next frame")
    wait_for(driver, lambda d: f"weights={edge}:1.5" in d.current_url.replace("%3A", ":"),
             "the edited weight in the link")
    print(f"edge {edge}: ∂E/∂w {gradient}, set to 1.5; link {driver.current_url}")

    driver.get("about:blank")
    driver.get(url + "?data=xor&layers=2&weights=i1-h1:100,i2-h1:100,i1-h2:-100,i2-h2:100")
    wait_for(driver, lambda d: "saturated" in text(d, "doctor-notes"), "Doctor's note")
    flagged = driver.find_elements(By.CSS_SELECTOR, "#network-picture circle.flagged")
    if len(flagged) != 2:
        fail(f"Doctor's note marks {len(flagged)} neurons, not h1 and h2")
    print(f"Doctor: {text(driver, 'doctor-notes')[:100]}…")


def check_frame_size(driver, url):
    """Check 11: frames at the default settings, training, stay under 30 KB."""
    driver.get("about:blank")
    driver.get(url)
    wait_for(driver, lambda d: text(d, "status") == "paused", "the default page")
    driver.find_element(By.ID, "start").click()
    wait_for(driver, lambda d: number(d, "epoch-count") >= 100, "100 epochs at the defaults", 60)
    driver.find_element(By.ID, "gradient-view").click()
    time.sleep(2)
    driver.find_element(By.ID, "start").click()
    largest = driver.execute_script("return window.largestFrameBytes;")
    if not largest or largest >= 30 * 1024:
        fail(f"a frame at the default settings took {largest} bytes (the bound is 30 KB)")
    print(f"largest frame at the default settings: {largest} bytes")


def main():
    backprop, chromium, workdir = sys.argv[1:4]
    os.makedirs(workdir, exist_ok=True)
    server, url = start_server(backprop)
    driver = make_driver(chromium)
    second = None
    try:
        # 1. XOR from a link, trained with Start.
        link = (url + "?data=xor&samples=200&noise=0.05&layers=4,4&activation=tanh"
                "&learningRate=0.1&batchSize=10&seed=3&speed=400")
        driver.get(link)
        wait_for(driver, lambda d: text(d, "status") == "paused"
                 and "<svg" in picture(d, "data-picture"), "the first frame")
        if Select(driver.find_element(By.ID, "data")).first_selected_option.get_attribute(
                "value") != "xor" or driver.find_element(By.ID, "layers").get_attribute(
                "value") != "4,4":
            fail("the controls do not show the link's settings")
        initial_loss = number(driver, "train-loss")
        initial_picture = picture(driver, "data-picture")
        driver.find_element(By.ID, "start").click()
        wait_for(driver, lambda d: text(d, "status") == "running", "training to start", 10)
        wait_for(driver, lambda d: number(d, "epoch-count") >= 40, "40 epochs", 60)
        driver.find_element(By.ID, "start").click()
        wait_for(driver, lambda d: text(d, "status") == "paused", "the pause", 10)
        paused_step = number(driver, "step-count")
        time.sleep(1)
        if number(driver, "step-count") != paused_step:
            fail("training went on after Pause")
        final_loss = number(driver, "train-loss")
        final_picture = picture(driver, "data-picture")
        print(f"XOR: train loss {initial_loss} -> {final_loss} after "
              f"{int(paused_step)} steps ({text(driver, 'epoch-count')} epochs)")
        if not final_loss < 0.7 * initial_loss:
            fail(f"the training loss shown did not fall: {initial_loss} -> {final_loss}")
        if final_picture == initial_picture:
            fail("the decision picture did not change")
        if "<svg" not in picture(driver, "loss-picture"):
            fail("no loss curve after training")

        # 2. A neuron's trace.
        driver.find_element(By.CSS_SELECTOR, '#network-picture circle[data-neuron="h1_2"]').click()
        wait_for(driver, lambda d: text(d, "neuron-name") == "h1_2", "the neuron to be selected")
        driver.find_element(By.ID, "step").click()
        wait_for(driver, lambda d: number(d, "step-count") == paused_step + 1, "one step")
        rows = driver.find_elements(By.CSS_SELECTOR, "#trace tbody tr")
        names = [row.find_element(By.TAG_NAME, "td").text for row in rows]
        for wanted in ["net_h1_2", "out_h1_2", "δ_h1_2", "E_total"]:
            if wanted not in names:
                fail(f"the trace of h1_2 lacks {wanted}: {names}")
        driver.save_screenshot(os.path.join(workdir, "playground.png"))
        print(f"trace of h1_2: {len(rows)} quantities ({', '.join(names[:6])}, …)")

        # 3. The model download, read by `backprop predict`.
        model = driver.execute_async_script(
            "const done = arguments[0];"
            "fetch(document.getElementById('download').href).then(r => r.text()).then(done);")
        model_path = os.path.join(workdir, "playground-model.json")
        with open(model_path, "w") as handle:
            handle.write(model)
        points = os.path.join(workdir, "points.csv")
        with open(points, "w") as handle:
            handle.write("x0,x1\n0.9,0.9\n-0.9,0.9\n")
        predicted = subprocess.run(
            [backprop, "predict", "--model", model_path, "--data", points],
            capture_output=True, text=True)
        if predicted.returncode != 0 or "prediction" not in predicted.stdout:
            fail(f"backprop predict could not use the downloaded model: {predicted.stderr}")
        classes = [line.split(",")[0] for line in predicted.stdout.strip().splitlines()[1:]]
        if classes != ["0", "1"]:
            fail(f"the downloaded model is not the trained one: XOR corners -> {classes}")
        print("backprop predict on the downloaded model:\n" + predicted.stdout.strip())

        # 4. Settings in the URL.
        rate = driver.find_element(By.ID, "learningRate")
        rate.clear()
        rate.send_keys("0.05")
        driver.find_element(By.ID, "batchSize").click()  # moves focus, so the change fires
        wait_for(driver, lambda d: "learningRate=0.05" in d.current_url, "the URL to change")
        print(f"URL after a change: {driver.current_url}")

        # 6. A second page is a session of its own.
        second = make_driver(chromium)
        second.get(url + "?data=moons&speed=200")
        wait_for(second, lambda d: text(d, "status") == "paused", "the second page")
        second.find_element(By.ID, "start").click()
        wait_for(second, lambda d: text(d, "status") == "running", "the second page to train")
        driver.find_element(By.ID, "step").click()
        wait_for(driver, lambda d: number(d, "step-count") == 1, "a step of the first page")
        driver.find_element(By.ID, "reset").click()
        wait_for(driver, lambda d: number(d, "step-count") == 0, "the first page's reset")
        second_steps = number(second, "step-count")
        wait_for(second, lambda d: number(d, "step-count") > second_steps,
                 "the second page to go on training after the first reset", 10)
        if text(second, "status") != "running" or text(driver, "status") != "paused":
            fail("one page's commands reached the other")
        print("two pages: separate sessions")

        # 5. A TensorFlow Playground link.
        # From a blank page, so that the link loads once: a reload after the page has
        # rewritten its address would load the rewritten address, without the link's notices.
        driver.get("about:blank")
        driver.get(url + "#activation=relu&batchSize=5&dataset=circle&learningRate=0.1"
                   "&networkShape=3&percTrainData=70&noise=10&seed=0.12345&problem=classification"
                   "&xSquared=true&regularization=L1&regularizationRate=0.003")
        wait_for(driver, lambda d: "data=circles" in d.current_url, "the TensorFlow link")
        checks = {"layers": "3", "activation": "relu", "batchSize": "5", "trainFraction": "0.7",
                  "l1Penalty": "0.003"}
        for element_id, wanted in checks.items():
            shown = driver.find_element(By.ID, element_id).get_attribute("value")
            if shown != wanted:
                fail(f"TensorFlow link: #{element_id} shows {shown!r}, not {wanted!r}")
        if "not offered" in text(driver, "notices") or "unsupported" in text(driver, "notices"):
            fail(f"TensorFlow link: a setting was refused ({text(driver, 'notices')!r})")
        if not driver.find_element(
                By.CSS_SELECTOR, '#features input[data-feature="x1sq"]').is_selected():
            fail("TensorFlow link: xSquared is not ticked")
        wait_for(driver, lambda d: "x₁²" in picture(d, "network-picture"),
                 "the input x₁² of the TensorFlow link")
        print(f"TensorFlow Playground link read as {driver.current_url}")

        check_maps_and_gradients(driver, url, workdir)
        check_feature_weight_and_doctor(driver, url)
        check_frame_size(driver, url)
    finally:
        driver.quit()
        if second:
            second.quit()
        server.terminate()
        server.wait(timeout=10)
    print("playground e2e: passed")


if __name__ == "__main__":
    main()
