# Seed 002 (../shared/seeds/002_c6d3547b39e2cec8.txt) as its author wrote it, bugs kept: 3-4-4
# tanh / softmax, weights stored out×in, cross-entropy averaged over the 2 samples. Its backward
# pass takes tanh′ of the wrong variable (1 - np.tanh(dh)**2) and leaves W2_grad transposed and
# summed. One step, then its arrays are saved for `backprop check`.
import sys
import numpy as np

def softmax(a):
  max_value = np.max(a, axis=1, keepdims=True)
  shifted = a - max_value
  z = np.exp(shifted)
  sums = np.sum(z, axis=1, keepdims=True)
  return z / sums

def tanh(a):
  return np.tanh(a)

def forward(W1, W2, b1, b2, X):
  Z = np.dot(X, W1.T) + b1.T
  H = tanh(Z)
  Zo = np.dot(H, W2.T) + b2.T
  y_pred = softmax(Zo)
  return H, y_pred

def backward(y_pred, y_true, H, W2, X):
  y_diff = y_pred - y_true
  dzo = y_diff
  b2_grad = np.mean(y_diff, axis=0, keepdims=True).T
  W2_grad = np.dot(H.T, dzo)
  dh = np.dot(dzo, W2)
  dz = 1 - np.tanh(dh)**2
  b1_grad = np.mean(dz, axis=0, keepdims=True).T
  W1_grad = np.dot(dz.T, X)
  return W1_grad, W2_grad, b1_grad, b2_grad, dh, dz

X = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
y_true = np.array([[1, 0, 0, 0], [0, 0, 1, 0]])
W1 = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9], [0.2, 0.3, 0.1]])
b1 = np.array([[0.1], [0.2], [0.3], [0.1]])
W2 = np.array([[0.5, 0.4, 0.3, 0.2], [0.1, 0.6, 0.7, 0.8], [0.9, 0.8, 0.7, 0.6],
               [0.5, 0.4, 0.3, 0.2]])
b2 = np.array([[0.2], [0.3], [0.1], [0.2]])

H, y_pred = forward(W1, W2, b1, b2, X)
W1_grad, W2_grad, b1_grad, b2_grad, dh, dz = backward(y_pred, y_true, H, W2, X)
np.savez(sys.argv[1], X=X, y_true=y_true, W1=W1, b1=b1, W2=W2, b2=b2, H=H, y_pred=y_pred,
         dh=dh, dz=dz, W1_grad=W1_grad, W2_grad=W2_grad, b1_grad=b1_grad, b2_grad=b2_grad)
