"""Reference values for Tests/BackpropTests/LossTests.swift and OptimizerTests.swift.

Computed with JAX and optax in float64, independently of Backprop. Not run by CI; to regenerate:

    python3 -m venv .venv-references && .venv-references/bin/pip install jax optax
    .venv-references/bin/python Tests/References/make_references.py
"""
import jax, jax.numpy as jnp, optax
jax.config.update("jax_enable_x64", True)
X = jnp.array([[0.2, -0.4, 0.9], [-0.7, 0.1, 0.3]])
W1 = jnp.array([[0.1, -0.2, 0.3, 0.05], [0.4, 0.25, -0.6, 0.1], [-0.3, 0.8, 0.2, -0.5]])  # in x out
b1 = jnp.array([0.01, -0.02, 0.03, 0.0])
W2 = jnp.array([[0.7, -0.1], [0.2, 0.5], [-0.4, 0.3], [0.6, -0.8]])
b2 = jnp.array([0.05, -0.05])
T = jnp.array([[0.0, 1.0], [1.0, 0.0]])
def net(p):
    h = jnp.tanh(X @ p[0] + p[1]); return h @ p[2] + p[3]
losses = {
 "mse": lambda p: jnp.mean((net(p) - T) ** 2),
 "half": lambda p: 0.5 * jnp.sum((net(p) - T) ** 2),
 "bce": lambda p: jnp.mean(-(T * jnp.log(jax.nn.sigmoid(net(p))) + (1 - T) * jnp.log(1 - jax.nn.sigmoid(net(p))))),
 "ce": lambda p: -jnp.mean(jnp.sum(T * jax.nn.log_softmax(net(p)), 1)),
}
p = [W1, b1, W2, b2]
for k, f in losses.items():
    v, g = jax.value_and_grad(f)(p)
    print(k, repr(float(v)))
    for name, gi in zip(["W1", "b1", "W2", "b2"], g):
        print("  ", name, [float(x) for x in gi.ravel()])
# optimizers on f(w) = sum((w - c)^2 * s)
w0 = jnp.array([1.0, -2.0, 0.5]); c = jnp.array([0.3, 0.1, -0.2]); s = jnp.array([1.0, 3.0, 0.5])
f = lambda w: jnp.sum((w - c) ** 2 * s)
for name, opt in [("sgd", optax.sgd(0.1)), ("momentum", optax.sgd(0.1, momentum=0.9)), ("nesterov", optax.sgd(0.1, momentum=0.9, nesterov=True)), ("adam", optax.adam(0.1, b1=0.9, b2=0.999, eps=1e-8))]:
    w = w0; st = opt.init(w)
    for i in range(5):
        g = jax.grad(f)(w); u, st = opt.update(g, st, w); w = optax.apply_updates(w, u)
    print(name, [float(x) for x in w])
# weight decay as L2 in the gradient (PyTorch SGD weight_decay): g + wd*w
opt = optax.chain(optax.add_decayed_weights(0.01), optax.sgd(0.1, momentum=0.9)); w = w0; st = opt.init(w)
for i in range(5):
    g = jax.grad(f)(w); u, st = opt.update(g, st, w); w = optax.apply_updates(w, u)
print("momentum+wd", [float(x) for x in w])
