# Seed 000 (../shared/seeds/000_8dd183ff8e27a114.txt), its final program as written, bugs kept:
# XOR on a 2-4-1 network, tanh then sigmoid, no biases. It prints np.mean(np.square(a2 - Y)),
# but its gradients are those of ½Σ(a2 − Y)²: delta2 carries neither the mean's 1/N nor the
# square's 2. One step (lr 0.1), then its arrays are saved for `backprop check`.
import sys
import numpy as np

def forward(X, W1, W2):
    z1 = np.dot(X, W1)
    a1 = np.tanh(z1)
    z2 = np.dot(a1, W2)
    a2 = sigmoid(z2)
    return a2, (a1, z1, z2)

def backward(X, Y, a2, cache):
    a1, z1, z2 = cache
    delta2 = (a2 - Y)*sigmoid_derivative(z2)
    dW2 = np.dot(a1.T, delta2)
    delta1 = np.dot(delta2, W2.T) * tanh_derivative(z1)
    dW1 = np.dot(X.T, delta1)
    return dW1, dW2, delta1, delta2

def sigmoid(x):
    return 1 / (1 + np.exp(-x))

def sigmoid_derivative(x):
    return sigmoid(x)*(1-sigmoid(x))

def tanh_derivative(x):
    return (1 - np.power(np.tanh(x), 2))

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
Y = np.array([[0], [1], [1], [0]])
np.random.seed(0)
W1 = np.random.randn(2, 4)
W2 = np.random.randn(4, 1)
learning_rate = 0.1
a2, cache = forward(X, W1, W2)
dW1, dW2, delta1, delta2 = backward(X, Y, a2, cache)
a1, z1, z2 = cache
np.savez(sys.argv[1], X=X, Y=Y, W1=W1, W2=W2, z1=z1, a1=a1, z2=z2, a2=a2, delta2=delta2,
         dW2=dW2, delta1=delta1, dW1=dW1, W1_new=W1 - learning_rate * dW1,
         W2_new=W2 - learning_rate * dW2)
