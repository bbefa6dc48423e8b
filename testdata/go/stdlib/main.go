// stdlib: maps, sort, strconv, encoding/json, math, math/big, strings, regexp, time formatting of fixed
// dates, compress/gzip and hashes; pure computation with stable output.
package main

import (
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

type Item struct {
	Name  string            `json:"name"`
	Price float64           `json:"price"`
	Tags  []string          `json:"tags,omitempty"`
	Attrs map[string]string `json:"attrs,omitempty"`
	Count int               `json:"count"`
}

func main() {
	// Maps: word counts, printed in sorted key order.
	text := "the quick brown fox jumps over the lazy dog the fox barks"
	counts := map[string]int{}
	for _, w := range strings.Fields(text) {
		counts[w]++
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("%s=%d ", k, counts[k])
	}
	fmt.Println()
	delete(counts, "the")
	fmt.Println("map len after delete:", len(counts))

	// sort.Slice and sort.SliceStable with a multi-key order.
	people := []struct {
		Name string
		Age  int
	}{{"Alice", 30}, {"Bob", 25}, {"Carol", 30}, {"Dave", 25}, {"Eve", 35}}
	sort.SliceStable(people, func(i, j int) bool { return people[i].Age < people[j].Age })
	fmt.Println("stable by age:", people)
	nums := []int{}
	x := uint32(12345)
	for i := 0; i < 1000; i++ {
		x = x*1664525 + 1013904223
		nums = append(nums, int(x%10000))
	}
	sort.Ints(nums)
	fmt.Println("sorted ints: first", nums[:5], "last", nums[995:], "searchInts(5000) =", sort.SearchInts(nums, 5000))

	// strconv.
	for _, s := range []string{"42", "-17", "0x1f", "abc", "99999999999999999999"} {
		n, err := strconv.ParseInt(s, 0, 64)
		fmt.Printf("ParseInt(%q) = %d, %v\n", s, n, err)
	}
	for _, f := range []float64{0.1, 1.0 / 3, 1e21, 123456789.125, math.Pi, -0.0, math.Inf(1)} {
		fmt.Printf("float %s %s %s\n", strconv.FormatFloat(f, 'g', -1, 64), strconv.FormatFloat(f, 'e', 5, 64), strconv.FormatFloat(f, 'f', 3, 32))
	}
	pf, err := strconv.ParseFloat("2.718281828459045", 64)
	fmt.Println("ParseFloat:", pf, err, strconv.Quote("tab\there \"quoted\" ünï"), strconv.Itoa(-9876))

	// encoding/json round trip.
	items := []Item{
		{Name: "widget", Price: 9.99, Tags: []string{"a", "b"}, Count: 3},
		{Name: "gadget <&>", Price: 1e-7, Attrs: map[string]string{"z": "last", "a": "first", "m": "mid"}},
	}
	out, err := json.Marshal(items)
	fmt.Println("json:", string(out), err)
	var back []Item
	err = json.Unmarshal(out, &back)
	fmt.Printf("json back: %+v %v\n", back, err)
	var generic interface{}
	err = json.Unmarshal([]byte(`{"b":[1,2.5,"x",null,true],"a":{"nested":{}}}`), &generic)
	pretty, _ := json.MarshalIndent(generic, "", "  ")
	fmt.Println("json generic:", string(pretty), err)
	err = json.Unmarshal([]byte(`{"name": 5}`), &back[0])
	fmt.Println("json error:", err)

	// math: software and SSE paths.
	fmt.Printf("math: sqrt2=%.15f sin1=%.15f exp1=%.15f log10=%.15f pow=%.6g atan2=%.15f\n",
		math.Sqrt(2), math.Sin(1), math.Exp(1), math.Log(10), math.Pow(1.0001, 10000), math.Atan2(1, -1))
	fmt.Printf("math: floor=%v ceil=%v trunc=%v mod=%v hypot=%v nan=%v fma=%v\n",
		math.Floor(-2.5), math.Ceil(-2.5), math.Trunc(-2.5), math.Mod(7.5, 2), math.Hypot(3, 4), math.IsNaN(math.NaN()), math.FMA(2, 3, 4))
	var f32 float32 = 16777216
	fmt.Println("float32:", f32+1, float32(0.1)+float32(0.2), int64(float64(1<<62)), uint64(math.MaxUint64>>1))

	// math/big.
	fact := new(big.Int).MulRange(1, 60)
	fmt.Println("60! =", fact)
	r := new(big.Rat).SetFrac64(1, 3)
	r.Add(r, big.NewRat(1, 6))
	fmt.Println("1/3 + 1/6 =", r, "2^200 mod 1e9+7 =", new(big.Int).Exp(big.NewInt(2), big.NewInt(200), big.NewInt(1000000007)))

	// strings, bytes, utf8, regexp.
	s := "Hello, Wörld! ünïcödé"
	fmt.Println(strings.ToUpper(s), len(s), utf8.RuneCountInString(s), strings.Repeat("ab", 3), strings.Split("a,b,,c", ","))
	before, after, found := strings.Cut("key=value=more", "=")
	fmt.Println("cut:", before, after, found, strings.Title("go emu"), strings.EqualFold("Go", "GO"))
	var bb bytes.Buffer
	for i := 0; i < 5; i++ {
		fmt.Fprintf(&bb, "[%d]", i)
	}
	fmt.Println("buffer:", bb.String())
	re := regexp.MustCompile(`(\w+)@(\w+)\.com`)
	fmt.Println("regexp:", re.FindAllStringSubmatch("alice@example.com, bob@test.com; nope@x.org", -1))
	fmt.Println("regexp replace:", re.ReplaceAllString("mail alice@example.com now", "<$2:$1>"))

	// time formatting of fixed instants (UTC and a fixed zone; no tz database needed).
	tm := time.Date(2024, time.February, 29, 13, 4, 5, 123456789, time.UTC)
	fmt.Println("time:", tm.Format(time.RFC3339Nano), tm.Weekday(), tm.YearDay(), tm.Add(36*time.Hour).Format("2006-01-02 15:04"))
	zone := time.FixedZone("X", -7*3600)
	fmt.Println("time in zone:", tm.In(zone).Format(time.RFC1123Z), tm.Unix(), tm.Sub(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)))
	d, err := time.ParseDuration("1h15m30.5s")
	fmt.Println("duration:", d, d.Seconds(), err)

	// gzip round trip and hashes.
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	payload := strings.Repeat("goemu runs Go binaries. ", 200)
	zw.Write([]byte(payload))
	zw.Close()
	zr, err := gzip.NewReader(&zb)
	if err != nil {
		fmt.Println("gzip error:", err)
		return
	}
	unz, err := io.ReadAll(zr)
	fmt.Println("gzip round trip ok:", string(unz) == payload, err)
	sum := md5.Sum([]byte(payload))
	fmt.Println("md5:", hex.EncodeToString(sum[:]), "crc32:", crc32.ChecksumIEEE([]byte(payload)))
}
