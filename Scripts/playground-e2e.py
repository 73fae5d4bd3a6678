"""The playground in a real browser: Chromium driven by selenium through chromedriver.

Usage: playground-e2e.py BACKPROP CHROMIUM WORKDIR

Starts `backprop playground` on a free loopback port and checks, as a person would see it:
  1. XOR from a link: the controls show the link's settings; Start trains; after a while the
     training loss shown has fallen and the decision picture has changed; Pause stops it.
  2. A click on a neuron of the network shows its forward and backward values.
  3. The downloaded model is read by `backprop predict` and classifies XOR's corners.
  4. Changing a control rewrites the page's address (the settings live in the URL).
  5. A TensorFlow Playground link (#dataset=…) is read into the controls.
  6. Two pages have separate sessions: stopping one leaves the other training.
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
                   "&xSquared=true")
        wait_for(driver, lambda d: "data=circles" in d.current_url, "the TensorFlow link")
        checks = {"layers": "3", "activation": "relu", "batchSize": "5", "trainFraction": "0.7"}
        for element_id, wanted in checks.items():
            shown = driver.find_element(By.ID, element_id).get_attribute("value")
            if shown != wanted:
                fail(f"TensorFlow link: #{element_id} shows {shown!r}, not {wanted!r}")
        if "x and y only" not in text(driver, "notices"):
            fail(f"TensorFlow link: no notice about xSquared ({text(driver, 'notices')!r})")
        print(f"TensorFlow Playground link read as {driver.current_url}")
    finally:
        driver.quit()
        if second:
            second.quit()
        server.terminate()
        server.wait(timeout=10)
    print("playground e2e: passed")


if __name__ == "__main__":
    main()
