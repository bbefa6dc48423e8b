// nbody: CPU-bound floating-point benchmark (the Computer Language Benchmarks Game n-body
// simulation). Usage: nbody [steps] (default 4000000).
package main

import (
	"fmt"
	"math"
	"os"
	"strconv"
)

const (
	solarMass   = 4 * math.Pi * math.Pi
	daysPerYear = 365.24
)

type body struct{ x, y, z, vx, vy, vz, mass float64 }

func system() []body {
	return []body{
		{0, 0, 0, 0, 0, 0, solarMass},
		{4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
			1.66007664274403694e-03 * daysPerYear, 7.69901118419740425e-03 * daysPerYear, -6.90460016972063023e-05 * daysPerYear,
			9.54791938424326609e-04 * solarMass},
		{8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
			-2.76742510726862411e-03 * daysPerYear, 4.99852801234917238e-03 * daysPerYear, 2.30417297573763929e-05 * daysPerYear,
			2.85885980666130812e-04 * solarMass},
		{1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
			2.96460137564761618e-03 * daysPerYear, 2.37847173959480950e-03 * daysPerYear, -2.96589568540237556e-05 * daysPerYear,
			4.36624404335156298e-05 * solarMass},
		{1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
			2.68067772490389322e-03 * daysPerYear, 1.62824170038242295e-03 * daysPerYear, -9.51592254519715870e-05 * daysPerYear,
			5.15138902046611451e-05 * solarMass},
	}
}

func offsetMomentum(b []body) {
	var px, py, pz float64
	for _, p := range b {
		px += p.vx * p.mass
		py += p.vy * p.mass
		pz += p.vz * p.mass
	}
	b[0].vx = -px / solarMass
	b[0].vy = -py / solarMass
	b[0].vz = -pz / solarMass
}

func energy(b []body) float64 {
	e := 0.0
	for i := range b {
		p := &b[i]
		e += 0.5 * p.mass * (p.vx*p.vx + p.vy*p.vy + p.vz*p.vz)
		for j := i + 1; j < len(b); j++ {
			q := &b[j]
			dx, dy, dz := p.x-q.x, p.y-q.y, p.z-q.z
			e -= p.mass * q.mass / math.Sqrt(dx*dx+dy*dy+dz*dz)
		}
	}
	return e
}

func advance(b []body, dt float64) {
	for i := range b {
		p := &b[i]
		for j := i + 1; j < len(b); j++ {
			q := &b[j]
			dx, dy, dz := p.x-q.x, p.y-q.y, p.z-q.z
			d2 := dx*dx + dy*dy + dz*dz
			mag := dt / (d2 * math.Sqrt(d2))
			p.vx -= dx * q.mass * mag
			p.vy -= dy * q.mass * mag
			p.vz -= dz * q.mass * mag
			q.vx += dx * p.mass * mag
			q.vy += dy * p.mass * mag
			q.vz += dz * p.mass * mag
		}
	}
	for i := range b {
		p := &b[i]
		p.x += dt * p.vx
		p.y += dt * p.vy
		p.z += dt * p.vz
	}
}

func main() {
	steps := 4000000
	if len(os.Args) > 1 {
		v, err := strconv.Atoi(os.Args[1])
		if err != nil || v < 0 {
			fmt.Fprintln(os.Stderr, "usage: nbody [steps]")
			os.Exit(2)
		}
		steps = v
	}
	b := system()
	offsetMomentum(b)
	fmt.Printf("%.9f\n", energy(b))
	for i := 0; i < steps; i++ {
		advance(b, 0.01)
	}
	fmt.Printf("%.9f\n", energy(b))
}
