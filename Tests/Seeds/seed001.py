# Seed 001 (../shared/seeds/001_941eb71ec92d6279.txt), the question's code as asked, bug kept:
# XOR on a 2-3-1 sigmoid network with biases, ½(a − y)² summed over the samples, one sample at
# a time. Its output error is written target − prediction, so with w − eta·Dw every update goes
# uphill. One epoch's accumulated step (eta 0.7), its arrays saved for `backprop check`.
import sys
import numpy as np

X = [(0,0), (1,0), (0,1), (1,1)]
Y = [0, 1, 1, 0]
eta = 0.7
np.random.seed(1)
w1 = 2 * np.random.random(size=(2,3)) - 1
w2 = 2 * np.random.random(size=(3,1)) - 1
b1 = 2 * np.random.random(size=(1,3)) - 1
b2 = 2 * np.random.random(size=(1,1)) - 1
def sigmoid(x): return 1./(1 + np.exp(-x))
def dsigmoid(y): return y*(1-y)
Dw_1 = np.zeros((2,3))
Dw_2 = np.zeros((3,1))
Db_1 = np.zeros((1,3))
Db_2 = np.zeros((1,1))
layers1, layers2, deltas2, deltas1 = [], [], [], []
for i in range(len(X)):
    x = np.array(X[i])
    y = np.array(Y[i])
    act1 = np.dot(w1.T, x) + b1
    lay1 = sigmoid(act1)
    act2 = np.dot(w2.T, lay1.T) + b2
    lay2 = sigmoid(act2)
    delta_l2 = (y-lay2) * dsigmoid(lay2)
    corr_w2 = (delta_l2 * lay1).T
    corr_b2 = delta_l2 * 1
    delta_l1 = np.dot(w2, delta_l2) * dsigmoid(lay1).T
    corr_w1 = np.outer(x, delta_l1)
    corr_b1 = (delta_l1 * 1).T
    Dw_2 += corr_w2
    Dw_1 += corr_w1
    Db_2 += corr_b2
    Db_1 += corr_b1
    layers1.append(lay1.ravel()); layers2.append(lay2.ravel())
    deltas2.append(delta_l2.ravel()); deltas1.append(delta_l1.ravel())
np.savez(sys.argv[1], X=np.array(X, dtype=float), Y=np.array(Y, dtype=float).reshape(4, 1),
         w1=w1, b1=b1, w2=w2, b2=b2, a1=np.array(layers1), a2=np.array(layers2),
         delta2=np.array(deltas2), delta1=np.array(deltas1), dw1=Dw_1, dw2=Dw_2, db1=Db_1,
         db2=Db_2, w1_new=w1 - eta * Dw_1, w2_new=w2 - eta * Dw_2)
