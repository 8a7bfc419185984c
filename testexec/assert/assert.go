// Package assert judges a test's result: it evaluates dazzle's assertions
// (ES5 expressions over stdout, stderr and status) with goja and describes
// a failed test for people.
package assert

import (
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/dazzlekit/dazzlekit/testexec/runner"
	"github.com/dop251/goja"
)

// Result is what assertions are evaluated against.
type Result = runner.Result

// DefaultAssertionTimeout applies when Evaluate is given no limit: an
// assertion must never be able to hang the build.
const DefaultAssertionTimeout = 10 * time.Second

// maxCallStack turns runaway recursion into a RangeError instead of letting
// the Go stack grow until the process dies.
const maxCallStack = 1 << 14

// Evaluate runs one assertion, an ECMAScript expression (as dazzle, which used
// otto, an ES5 engine: each assertion is run as a script and its completion
// value is the result), with stdout, stderr (strings) and status (number)
// defined. The result must be a boolean. Each call uses a fresh runtime, so
// assertions cannot affect each other. A timeout <= 0 means
// DefaultAssertionTimeout.
func Evaluate(expr string, r Result, timeout time.Duration) (passed bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			passed, err = false, fmt.Errorf("assertion could not be evaluated: %v", p)
		}
	}()
	if timeout <= 0 {
		timeout = DefaultAssertionTimeout
	}

	vm := goja.New()
	vm.SetMaxCallStackSize(maxCallStack)
	for name, v := range map[string]any{"stdout": r.Stdout, "stderr": r.Stderr, "status": r.Status} {
		if err := vm.Set(name, v); err != nil {
			return false, err
		}
	}

	timer := time.AfterFunc(timeout, func() { vm.Interrupt("timeout") })
	defer timer.Stop()
	v, err := vm.RunScript("assertion", expr)
	if err != nil {
		var ie *goja.InterruptedError
		if errors.As(err, &ie) {
			return false, fmt.Errorf("assertion ran longer than %s and was stopped", timeout)
		}
		var so *goja.StackOverflowError
		if errors.As(err, &so) {
			return false, fmt.Errorf("RangeError: maximum call stack size exceeded%s", err)
		}
		return false, err
	}
	// Primitive booleans only: a Boolean object is truthy whatever it wraps.
	if _, isObj := v.(*goja.Object); !isObj && v != nil {
		if b, ok := v.Export().(bool); ok {
			return b, nil
		}
	}
	return false, fmt.Errorf("assertion must evaluate to a boolean, got %s", describe(v))
}

// describe names a JavaScript value's type, with a short preview to help
// spot the mistake (e.g. `stdout.indexOf("x")` instead of `... != -1`).
func describe(v goja.Value) string {
	if v == nil || goja.IsUndefined(v) {
		return "undefined"
	}
	if goja.IsNull(v) {
		return "null"
	}
	if o, ok := v.(*goja.Object); ok {
		if _, isFn := goja.AssertFunction(v); isFn {
			return "function"
		}
		return fmt.Sprintf("object (%s)", o.ClassName())
	}
	switch x := v.Export().(type) {
	case int64, float64:
		return fmt.Sprintf("number (%s)", v.String())
	case string:
		return fmt.Sprintf("string (%q)", preview(x))
	case *big.Int:
		return "bigint"
	case *goja.Symbol:
		return "symbol"
	default:
		return fmt.Sprintf("%T", x)
	}
}

func preview(s string) string {
	const max = 60
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	return string(r[:max]) + "..."
}
